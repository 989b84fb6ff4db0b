//! Writes the test streams of the C test host into a directory:
//! `jit-streamgen DIR` writes the programs (see `testgen::host_streams`) and
//! `DIR/bad/*.stream` with `DIR/bad/expected.txt` (file, tab, message part).

use atomvm_wasm_jit::testgen;
use std::io::Write;
use std::path::PathBuf;

fn main() -> std::io::Result<()> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "target/streams".into()),
    );
    let bad = dir.join("bad");
    std::fs::create_dir_all(&bad)?;
    for (name, bytes) in testgen::host_streams() {
        std::fs::write(dir.join(name), bytes)?;
    }
    let mut expected = std::fs::File::create(bad.join("expected.txt"))?;
    for (name, bytes, message) in testgen::bad_streams() {
        std::fs::write(bad.join(name), bytes)?;
        writeln!(expected, "{name}\t{message}")?;
    }
    Ok(())
}
