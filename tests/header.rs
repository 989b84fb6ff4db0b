//! The committed C header must be what build.rs generates from the sources.

#[test]
fn committed_header_matches_generated() {
    let generated = std::fs::read_to_string(concat!(env!("OUT_DIR"), "/atomvm_wasm_jit.h"))
        .expect("build.rs writes the header to OUT_DIR");
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/include/atomvm_wasm_jit.h"
    ))
    .expect("include/atomvm_wasm_jit.h is committed");
    assert!(
        generated == committed,
        "include/atomvm_wasm_jit.h is out of date: run ATOMVM_WASM_JIT_BLESS_HEADER=1 cargo build and commit it"
    );
}
