//! The README's "Integrating into AtomVM" steps quote, verbatim, the CMake
//! lines that `atomvm/integrate.sh` (which the AtomVM lane runs) inserts:
//! the documented steps and the tested ones cannot drift apart.

const README: &str = include_str!("../README.md");

#[test]
fn the_readme_quotes_the_integration_snippets_verbatim() {
    for (name, snippet) in [
        ("lib.cmake", include_str!("../atomvm/integration/lib.cmake")),
        (
            "link.cmake",
            include_str!("../atomvm/integration/link.cmake"),
        ),
    ] {
        // Quoted inside a numbered list: indented by its 3 spaces.
        let quoted: String = snippet
            .lines()
            .map(|l| {
                if l.is_empty() {
                    "\n".to_string()
                } else {
                    format!("   {l}\n")
                }
            })
            .collect();
        assert!(
            README.contains(&format!("```cmake\n{quoted}   ```")),
            "README.md does not quote atomvm/integration/{name}"
        );
    }
    let script = include_str!("../atomvm/integrate.sh");
    for file in ["integration/lib.cmake", "integration/link.cmake"] {
        assert!(script.contains(file), "integrate.sh does not apply {file}");
    }
    assert!(README.contains("    list(APPEND SOURCE_FILES jit_stream_wasm.c)"));
    assert!(script.contains("ADD_C='    list(APPEND SOURCE_FILES jit_stream_wasm.c)'"));
}
