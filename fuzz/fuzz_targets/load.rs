//! Fuzzes everything that reads a stream: parsing, the module checks, the
//! engine's verdict, rewriting, and the registry (on the native fake
//! engine). Rewriting is tried under every combination of the three
//! rewrites that change a module's structure (tail calls, direct
//! primitives, computed jumps) with the three that change single calls
//! (imported BIFs, small-integer BIFs, trims) on, with no rewrite, and with
//! everything on and shared memory: 10 sets, what a run can afford per
//! input (the tests try all 64 combinations on their programs).
//! Oracles:
//!
//! - nothing panics;
//! - whether a stream is refused does not depend on the rewrite options;
//! - a stream that loads rewrites into a module the engine accepts, under
//!   every option;
//! - memory: a load's peak allocation stays within what it reserved
//!   fallibly plus a few KiB (the counting allocator below);
//! - a stream loaded cold (its imports adapted, placed as it came) is
//!   refused exactly when it is refused rewritten at load;
//! - a loaded module answers lookups only for its labels and releases once.

#![no_main]

use atomvm_wasm_jit::oracle::budget::{self, Counting};
use atomvm_wasm_jit::{engine, memory, registry, rewrite};
use libfuzzer_sys::fuzz_target;

#[global_allocator]
static ALLOC: Counting = Counting;

fuzz_target!(|data: &[u8]| {
    atomvm_wasm_jit::error::set_logging(false);
    let mut verdict = None;
    let sets = rewrite::Options::every(false).filter(|o| {
        o.imported_bifs.is_some() && o.small_int_bifs.is_some() && o.trim_live_regs.is_some()
    });
    let ends = [rewrite::Options::plain(false), rewrite::Options::all(true)];
    for opts in sets.chain(ends) {
        let (prepared, peak) = budget::peak_of(|| registry::prepare(data, opts));
        let reserved = memory::reserved();
        assert!(
            peak <= reserved + budget::SLACK,
            "a load peaked at {peak} bytes, reserved {reserved}, with {opts:?}"
        );
        if let Ok(loaded) = &prepared {
            if let Err(why) = engine::engine_verdict(&loaded.module.wasm) {
                panic!("rewriting with {opts:?} made a valid module invalid: {why}");
            }
        }
        let ok = prepared.is_ok();
        assert_eq!(
            *verdict.get_or_insert(ok),
            ok,
            "the verdict changed with {opts:?}"
        );
    }
    let cold = registry::prepare_cold(data, rewrite::Options::plain(false), 1)
        .ok()
        .filter(|loaded| engine::engine_verdict(&loaded.module.wasm).is_ok());
    // wasmparser refuses a table import of more than 10^7 entries, which V8
    // compiles; both loads drop that minimum, so only the fake engine's
    // verdict on the module as it came differs there.
    if !big_table(data) {
        assert_eq!(
            cold.is_some(),
            verdict == Some(true),
            "loaded cold, the verdict differs"
        );
    }
    if let Ok(id) = registry::load(data) {
        let n = registry::num_entries(id).expect("a loaded module is live");
        for label in (0..n.min(64)).chain([n, n.saturating_add(1), u32::MAX]) {
            let found = registry::entry_point(id, label);
            assert_eq!(found.is_ok(), label < n, "label {label} of {n}");
        }
        registry::release(id).expect("first release succeeds");
        assert!(registry::release(id).is_err(), "second release is refused");
        assert!(
            registry::entry_point(id, 0).is_err(),
            "released module resolves"
        );
    }
});

/// Whether the stream's module imports a table of more than 10^7 entries.
fn big_table(data: &[u8]) -> bool {
    let Ok(parsed) = atomvm_wasm_jit::stream::parse(data) else {
        return false;
    };
    wasmparser::Parser::new(0)
        .parse_all(parsed.wasm)
        .any(|p| match p {
            Ok(wasmparser::Payload::ImportSection(r)) => r
                .into_imports()
                .flatten()
                .any(|i| matches!(i.ty, wasmparser::TypeRef::Table(t) if t.initial > 10_000_000)),
            _ => false,
        })
}
