//! The differential oracle under coverage-guided fuzzing: the input drives
//! the program generator (or picks one of AtomVM's real streams and a label
//! to enter it at), and the scenario is run as generated and rewritten under
//! each rewrite option; any difference the VM could observe is a crash.

#![no_main]

use atomvm_wasm_jit::oracle::{self, diff, gen};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

/// AtomVM's streams, if the fixtures are beside the checkout.
fn fixtures() -> &'static [Vec<u8>] {
    static FIXTURES: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        let dir = std::env::var_os("ATOMVM_WASM_JIT_FIXTURES")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| {
                concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/fixtures").into()
            });
        ["fx_arith", "fx_terms", "fx_procs", "fx_many"]
            .iter()
            .filter_map(|n| std::fs::read(dir.join(format!("{n}.stream"))).ok())
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let mut src = gen::Source::new(data);
    let scenario = match (src.byte(), fixtures()) {
        (0..=31, fx) if !fx.is_empty() => {
            let bytes = &fx[src.below(fx.len() as u32) as usize];
            let n = atomvm_wasm_jit::stream::parse(bytes).map_or(2, |s| s.num_entries);
            let label = 1 + src.below(n.max(2) - 1);
            match oracle::fixture_scenario(bytes, label, &mut src) {
                Some(s) => s,
                None => return,
            }
        }
        _ => gen::scenario(&mut src),
    };
    if let Err(m) = diff::compare(&scenario, &diff::OPTIONS) {
        panic!("{m}");
    }
});
