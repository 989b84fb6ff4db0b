//! Generates the C header with cbindgen into `OUT_DIR`. The committed copy in
//! `include/` is checked against it by `tests/header.rs`; to update it run
//! `ATOMVM_WASM_JIT_BLESS_HEADER=1 cargo build`.

use std::path::PathBuf;

const HEADER: &str = "atomvm_wasm_jit.h";

fn main() {
    let crate_dir =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-env-changed=ATOMVM_WASM_JIT_BLESS_HEADER");

    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("cbindgen.toml is readable");
    let bindings = cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen can generate the header");
    bindings.write_to_file(out_dir.join(HEADER));
    if std::env::var_os("ATOMVM_WASM_JIT_BLESS_HEADER").is_some() {
        bindings.write_to_file(crate_dir.join("include").join(HEADER));
    }
}
