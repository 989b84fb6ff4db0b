//! Fuzzes everything that reads a stream: parsing, the module checks, the
//! rewriting under every option, and the registry (on the native fake
//! engine). Oracles: nothing panics; a module that validates before
//! rewriting validates after, whatever the options; a loaded module answers
//! lookups only for its labels and releases once.

#![no_main]

use atomvm_wasm_jit::{module, registry, rewrite, stream};
use libfuzzer_sys::fuzz_target;

fn validates(wasm: &[u8]) -> bool {
    wasmparser::Validator::new_with_features(module::features())
        .validate_all(wasm)
        .is_ok()
}

fuzz_target!(|data: &[u8]| {
    atomvm_wasm_jit::error::set_logging(false);
    if let Ok(s) = stream::parse(data) {
        if let Ok(shape) = module::check(s.wasm, s.num_entries, s.wasm_offset) {
            let valid = validates(s.wasm);
            for bits in 0..8u8 {
                let opts = rewrite::Options {
                    shared_memory: bits & 1 != 0,
                    tail_calls: bits & 2 != 0,
                    direct_primitives: bits & 4 != 0,
                };
                let out = rewrite::rewrite(s.wasm, &shape, opts, s.wasm_offset);
                if valid {
                    let out = out.expect("a valid module rewrites");
                    assert!(validates(&out.wasm), "rewriting broke a valid module with {opts:?}");
                }
            }
        }
    }
    if let Ok(id) = registry::load(data) {
        let n = registry::num_entries(id).expect("a loaded module is live");
        for label in (0..n.min(64)).chain([n, n.saturating_add(1), u32::MAX]) {
            let found = registry::entry_point(id, label);
            assert_eq!(found.is_ok(), label < n, "label {label} of {n}");
        }
        registry::release(id).expect("first release succeeds");
        assert!(registry::release(id).is_err(), "second release is refused");
        assert!(registry::entry_point(id, 0).is_err(), "released module resolves");
    }
});
