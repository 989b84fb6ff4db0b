//! The real streams of AtomVM's code generator in ../shared/fixtures (spec
//! section 9): parse, check, rewrite, validate, and place every label in a
//! distinct slot. Skipped with a note when the fixtures are not beside the
//! checkout (the rest of the suite does not depend on them).

use atomvm_wasm_jit::engine::FAKE_TABLE;
use atomvm_wasm_jit::{module, registry, rewrite, stream};
use std::path::PathBuf;

const FIXTURES: [(&str, u32, usize, usize, usize); 4] = [
    ("fx_arith", 30, 104, 3709, 3849),
    ("fx_terms", 33, 104, 4167, 4325),
    ("fx_procs", 29, 92, 3948, 4078),
    ("fx_many", 953, 3644, 167183, 169197),
];

fn dir() -> Option<PathBuf> {
    let dir = std::env::var_os("ATOMVM_WASM_JIT_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/fixtures"))
        });
    if dir.join("fx_arith.stream").exists() {
        Some(dir)
    } else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have the fixtures at {}",
            dir.display()
        );
        eprintln!("fixtures not found at {}: skipped", dir.display());
        None
    }
}

#[test]
fn fixtures_parse_check_rewrite_and_validate() {
    let Some(dir) = dir() else { return };
    for (name, entries, wasm_offset, lines_offset, size) in FIXTURES {
        let bytes = std::fs::read(dir.join(format!("{name}.stream"))).unwrap();
        assert_eq!(bytes.len(), size, "{name}");
        let s = stream::parse(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            (s.num_entries, s.wasm_offset),
            (entries, wasm_offset),
            "{name}"
        );
        assert_eq!(s.wasm.len(), lines_offset - wasm_offset, "{name}");
        let shape = module::check(s.wasm, s.num_entries, s.wasm_offset)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(shape.memory.shared && shape.memory.initial == 256, "{name}");
        for opts in rewrite::Options::every(false).chain(rewrite::Options::every(true)) {
            let out = rewrite::rewrite(s.wasm, &shape, opts, s.wasm_offset)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            wasmparser::Validator::new_with_features(module::features())
                .validate_all(&out.wasm)
                .unwrap_or_else(|e| panic!("{name} rewritten with {opts:?}: {e}"));
            if name == "fx_arith" && opts.tail_calls {
                // Spec section 9: 40 of fx_arith's 50 continuation stores are
                // the plain jump sequence.
                assert_eq!(out.linked_jumps, 40, "{opts:?}");
            }
            if opts.direct_primitives {
                assert!(out.detached && out.direct_calls > 0, "{name}: {opts:?}");
            }
        }
    }
}

#[test]
fn every_fixture_label_resolves_to_a_distinct_function() {
    let Some(dir) = dir() else { return };
    let mut seen = std::collections::HashSet::new();
    let mut ids = Vec::new();
    for (name, entries, ..) in FIXTURES {
        let bytes = std::fs::read(dir.join(format!("{name}.stream"))).unwrap();
        let id = registry::load(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            !registry::lines(id).unwrap().is_null(),
            "{name} has line metadata"
        );
        for label in 0..entries {
            let index = registry::entry_point(id, label)
                .unwrap_or_else(|e| panic!("{name} label {label}: {e}"));
            assert!(
                seen.insert(index),
                "{name} label {label} shares slot {index}"
            );
            let placed = FAKE_TABLE.with_borrow(|t| t.slots[index as usize]);
            assert_eq!(placed, Some((id.get(), label)));
        }
        assert!(registry::entry_point(id, entries).is_err());
        ids.push(id);
    }
    for id in ids {
        registry::release(id).unwrap();
    }
}
