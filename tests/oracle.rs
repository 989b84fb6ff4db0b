//! The differential oracle, bounded and seeded: generated programs and
//! AtomVM's real streams, each run as generated and rewritten under every
//! rewrite option, must agree on everything the VM can observe.

use atomvm_wasm_jit::oracle::{diff, gen, model};

/// `spec` run once from label 1, x registers 0.
fn from_label_1(spec: &atomvm_wasm_jit::testgen::ModuleSpec) -> model::Scenario {
    model::Scenario {
        streams: vec![atomvm_wasm_jit::testgen::stream_of(spec)],
        iface_types: gen::iface_types(),
        entry_module: 0,
        entry_label: 1,
        x: [0; 16],
        extra: [0; model::EXTRA_WORDS],
        reductions: 100,
        max_slices: 2,
        fuel: 10_000_000,
    }
}

fn check(scenario: &model::Scenario, what: &str) -> Vec<diff::Agreement> {
    diff::compare(scenario, &diff::OPTIONS).unwrap_or_else(|m| panic!("{what}: {m}"))
}

#[test]
fn generated_programs_agree() {
    let mut totals = diff::Agreement::default();
    let (mut runs, mut inconclusive, mut unloadable) = (0, 0, 0);
    for seed in 0..300u64 {
        let scenario = gen::scenario(&mut gen::Source::seeded(seed));
        let agreements = check(&scenario, &format!("seed {seed}"));
        if agreements.is_empty() {
            unloadable += 1;
        }
        for a in agreements {
            runs += 1;
            inconclusive += u32::from(a.inconclusive);
            totals.events += a.events;
            totals.linked_jumps += a.linked_jumps;
            totals.linked_exits += a.linked_exits;
            totals.direct_calls += a.direct_calls;
            totals.trampolined_calls += a.trampolined_calls;
            totals.inlined_bifs += a.inlined_bifs;
            totals.inlined_atoms += a.inlined_atoms;
            totals.small_int_calls += a.small_int_calls;
            totals.guarded_trims += a.guarded_trims;
            totals.compare_calls += a.compare_calls;
            totals.frame_calls += a.frame_calls;
            totals.heap_calls += a.heap_calls;
            totals.map_calls += a.map_calls;
            totals.map_get_calls += a.map_get_calls;
            totals.map_update_calls += a.map_update_calls;
        }
    }
    eprintln!("{runs} comparisons ({inconclusive} inconclusive, {unloadable} scenarios unloadable): {totals:?}");
    assert_eq!(unloadable, 0, "the generator makes valid modules");
    assert!(inconclusive * 20 < runs, "too many runs out of fuel");
    assert!(totals.linked_jumps > 0 && totals.linked_exits > 0 && totals.direct_calls > 0);
    assert!(totals.inlined_bifs > 0, "BIF calls were read in place");
    assert!(
        totals.inlined_atoms > 0,
        "atom constants were read in place"
    );
    assert!(
        totals.small_int_calls > 0,
        "BIF calls went to the small-integer function"
    );
    assert!(
        totals.guarded_trims > 0,
        "trim_live_regs calls were guarded"
    );
    assert!(
        totals.compare_calls > 0,
        "term_compare calls went to the comparing function"
    );
    assert!(
        totals.frame_calls > 0,
        "allocate and deallocate calls went to the frame functions"
    );
    assert!(
        totals.heap_calls > 0,
        "test_heap and term_alloc_tuple calls went to the heap functions"
    );
    assert!(
        totals.map_calls > 0,
        "term_find_map_pos calls went to the scanning function"
    );
    assert!(
        totals.map_get_calls > 0,
        "BIF calls of two arguments went to the map_get function"
    );
    assert!(
        totals.map_update_calls > 0,
        "jit_put_map_assoc calls went to the updating function"
    );
}

/// `term_compare` on equal words, small integers at the edges, atoms and
/// other terms, every pair with `opts` 0 and 1; then cycles of 1 to 6
/// pairs of atoms, three times over, so that the module's cache answers
/// from each of its slots and forgets. The answers in memory, and the
/// calls the model's `term_compare` logs for terms that are not
/// immediates, must be the same with the calls sent to the module's
/// function.
#[test]
fn immediate_compares_agree() {
    let values = [
        0xF,
        0x1F,
        0xFFFF_FFFF,
        0x7FFF_FFFF,
        0x8000_000F,
        0x8000_001F, // small integers
        0x0B,
        0x4B,
        0x8B,
        0xCB,
        0x7FFF_FFCB, // atoms
        0x3B,
        0x0,
        0x1E,
        0x8000_0000, // other terms
    ];
    let mut compares = Vec::new();
    for opts in 0..2 {
        for a in values {
            for b in values {
                compares.push((a, b, opts));
            }
        }
    }
    let atom = |i: u32| (i << 6) | 0xB;
    for k in 1..=6u32 {
        for round in 0..3 {
            for i in 0..k {
                compares.push((atom(i), atom(k + i * 7 + 1), round % 2));
            }
        }
    }
    let spec = atomvm_wasm_jit::testgen::compare_calls(
        atomvm_wasm_jit::testgen::BifForm::Generated,
        &compares,
        model::DATA,
    );
    let scenario = from_label_1(&spec);
    let agreements = check(&scenario, "compares");
    assert_eq!(agreements.len(), diff::OPTIONS.len());
    for (a, o) in agreements.iter().zip(diff::OPTIONS) {
        assert!(!a.inconclusive, "{o:?}");
        let expected = if o.immediate_compares {
            compares.len() as u32
        } else {
            0
        };
        assert_eq!(a.compare_calls, expected, "{o:?}");
    }
}

/// `term_find_map_pos` of every key of the model's maps, of small
/// integers and atoms in none of them, and of other terms, in each map and
/// in words that are not maps (read anyway: a map of immediates answered
/// in the module, a boxed key left to the model's C, a map whose keys run
/// past memory, which traps alike). The answers in memory and the calls
/// the model logs must be the same with the calls sent to the module's
/// function; every lookup but the trapping one is made.
#[test]
fn map_lookups_agree() {
    let mut keys: Vec<u32> = model::MAP_KEYS
        .iter()
        .flat_map(|k| k.iter().copied())
        .collect();
    keys.extend([0x2F_u32, 0x5F, 0x10B, 0x7FFF_FFCB, 0x0, 0x1E, 0x6002, 0x3B]);
    let [a, b, empty, past] = model::MAP_TERMS;
    let mut maps = vec![a, b, empty];
    let mut lookups: Vec<(u32, u32)> = Vec::new();
    for map in maps.drain(..) {
        lookups.extend(keys.iter().map(|k| (map, *k)));
    }
    let spec = atomvm_wasm_jit::testgen::map_lookups(
        atomvm_wasm_jit::testgen::BifForm::Generated,
        &lookups,
        model::DATA,
    );
    let agreements = check(&from_label_1(&spec), "map lookups");
    assert_eq!(agreements.len(), diff::OPTIONS.len());
    for (a, o) in agreements.iter().zip(diff::OPTIONS) {
        assert!(!a.inconclusive, "{o:?}");
        let expected = if o.map_lookups {
            lookups.len() as u32
        } else {
            0
        };
        assert_eq!(a.map_calls, expected, "{o:?}");
    }
    // A key not found before the keys run past memory: a trap, alike.
    let trapping = atomvm_wasm_jit::testgen::map_lookups(
        atomvm_wasm_jit::testgen::BifForm::Generated,
        &[(past, 0xCB), (past, 0x1F)],
        model::DATA,
    );
    check(&from_label_1(&trapping), "a map past memory");
}

/// `jit_put_map_assoc` of one pair for every key of the model's maps, of
/// small integers and atoms in none of them and of other terms, in each
/// map and in words that are not maps, with every key in the map or not,
/// one pair or two; then with the heap's top moved onto a map, its keys,
/// the pair, and the end of memory. The maps made in memory and the calls
/// the model logs must be the same with the calls sent to the module's
/// function.
#[test]
fn map_updates_agree() {
    use atomvm_wasm_jit::testgen::MapUpdate;
    let mut keys: Vec<u32> = model::MAP_KEYS
        .iter()
        .flat_map(|k| k.iter().copied())
        .collect();
    keys.extend([0x2F_u32, 0x5F, 0x10B, 0x0, 0x6002, 0x3B]);
    let [a, b, empty, past] = model::MAP_TERMS;
    let kv = model::DATA + 0xB00;
    let update = |map, key, new_entries, pairs, top| MapUpdate {
        map,
        key,
        value: 0x5550 | (key & 0xF),
        new_entries,
        pairs,
        kv,
        top,
    };
    let mut updates = Vec::new();
    for map in [a, b, empty, past, model::NOT_A_MAP, model::DATA | 2] {
        for &key in &keys {
            updates.push(update(map, key, 0, 1, None));
        }
    }
    for (new_entries, pairs) in [(1, 1), (0, 2), (0, 0)] {
        updates.push(update(a, 0x1F, new_entries, pairs, None));
    }
    let a_words = a & !3;
    for top in [
        a_words,
        a_words - 0x40,
        kv - 4,
        0x1_FFF0,
        model::DATA + 0x400,
    ] {
        updates.push(update(a, 0x1F, 0, 1, Some(top)));
        updates.push(update(b, 0x8B, 0, 1, None));
    }
    // The heap's top as the pair's value (a top in DATA).
    let top_word = model::CTX + atomvm_wasm_jit::rewrite::HeapLayout::MODEL.heap_ptr;
    updates.push(MapUpdate {
        kv: top_word - 4,
        value: model::DATA + 0x600,
        ..update(b, 0x8B, 0, 1, None)
    });
    let spec = atomvm_wasm_jit::testgen::map_updates(
        atomvm_wasm_jit::testgen::BifForm::Generated,
        &updates,
        atomvm_wasm_jit::rewrite::HeapLayout::MODEL.heap_ptr,
        model::DATA + 0xC00,
    );
    let agreements = check(&from_label_1(&spec), "map updates");
    assert_eq!(agreements.len(), diff::OPTIONS.len());
    for (a, o) in agreements.iter().zip(diff::OPTIONS) {
        assert!(!a.inconclusive, "{o:?}");
        let expected = if o.map_updates.is_some() {
            updates.len() as u32
        } else {
            0
        };
        assert_eq!(a.map_update_calls, expected, "{o:?}");
    }
}

/// `erlang:map_get/2` (and `+`, as another BIF of the same type would be
/// called) of every key of the model's maps, of small integers and atoms
/// in none of them, and of other terms, in each map and in words that are
/// not maps: the answers in memory and the calls the model logs (raising
/// ones, and those past a boxed key) must be the same with the calls sent
/// to the module's function.
#[test]
fn map_get_agrees() {
    use atomvm_wasm_jit::rewrite::{SmallIntBifs, MAP_GET_MODEL};
    let mut keys: Vec<u32> = model::MAP_KEYS
        .iter()
        .flat_map(|k| k.iter().copied())
        .collect();
    keys.extend([0x2F_u32, 0x5F, 0x10B, 0x0, 0x6002, 0x3B]);
    let [a, b, empty, _] = model::MAP_TERMS;
    let mut lookups: Vec<(u32, u32)> = Vec::new();
    // Not maps: a tuple whose word 1 is a's keys, a's words as a list, the
    // keys' tuple, a small integer, other memory.
    let not_maps = [model::NOT_A_MAP, a - 1, a - 0x40, 0x1F, model::DATA | 2];
    for map in [a, b, empty].into_iter().chain(not_maps) {
        lookups.extend(keys.iter().map(|k| (map, *k)));
    }
    let mut calls = 0;
    for pointer in [MAP_GET_MODEL, SmallIntBifs::MODEL.add] {
        let spec = atomvm_wasm_jit::testgen::map_get_calls(pointer, &lookups, model::DATA);
        let agreements = check(&from_label_1(&spec), "map_get");
        assert_eq!(agreements.len(), diff::OPTIONS.len());
        for (a, o) in agreements.iter().zip(diff::OPTIONS) {
            assert!(!a.inconclusive, "{o:?}");
            let expected = if o.map_get_bif.is_some() {
                lookups.len() as u32
            } else {
                0
            };
            assert_eq!(a.map_get_calls, expected, "{o:?}");
            calls += a.map_get_calls;
        }
    }
    assert!(calls > 0);
}

/// `+`, `-`, `band`, `bor`, `bxor` and `bsr` on small integers at the
/// edges (0, 1, -1, the largest, the smallest, next to them, shifts within
/// and past 31 and 63) and on other terms: the results in memory, and the
/// calls the BIFs log when they leave the small-integer path (overflow, a
/// negative shift, another term), must be the same with the calls sent to
/// the module's function.
#[test]
fn small_int_bifs_agree_at_the_edges() {
    use atomvm_wasm_jit::rewrite::SmallIntBifs;
    let m = SmallIntBifs::MODEL;
    let values = [
        0xF,
        0x1F,
        0x2F,
        0x1BF, // 27
        0x1FF, // 31
        0x20F, // 32
        0x3FF, // 63
        0x40F, // 64
        0xFFFF_FFFF,
        0xFFFF_FFEF,
        0x7FFF_FFFF,
        0x7FFF_FFEF,
        0x8000_000F,
        0x8000_001F,
        0x4000_000F,
        0xBFFF_FFFF, // small integers
        0x0,
        0xB,
        0xE,
        0x1E,
        0x7FFF_FFFE,
        0x8000_0000,
        0xF0, // other terms
    ];
    let n = values.len() as u32;
    for group in [[m.add, m.sub, m.band], [m.bor, m.bxor, m.bsr]] {
        let spec = atomvm_wasm_jit::testgen::small_int_calls(&group, &values, model::DATA);
        let scenario = from_label_1(&spec);
        let agreements = check(&scenario, "edges");
        assert_eq!(agreements.len(), diff::OPTIONS.len());
        for (a, o) in agreements.iter().zip(diff::OPTIONS) {
            assert!(!a.inconclusive, "{o:?}");
            let expected = if o.small_int_bifs.is_some() {
                3 * n * n
            } else {
                0
            };
            assert_eq!(a.small_int_calls, expected, "{o:?}");
        }
    }
}

/// What the model's `bsr` answers, by the rule of AtomVM's C (64-bit
/// shifts of the value), on a few pairs: the oracle above compares the
/// module's function with this model, so the model must be AtomVM's.
#[test]
fn the_model_shifts_right_as_atomvm_does() {
    let bsr = |a: i32, b: i32| {
        let t = |v: i32| ((v << 4) as u32) | 0xF;
        model::small_int_bif(model::prim::BIF_BSR, t(a), t(b)).map(|r| (r as i32) >> 4)
    };
    assert_eq!(bsr(-1000, 3), Some(-125));
    assert_eq!(bsr(0x7FF_FFFF, 26), Some(1));
    assert_eq!(bsr(0x7FF_FFFF, 27), Some(0));
    assert_eq!(bsr(-0x800_0000, 27), Some(-1));
    assert_eq!(bsr(-1, 100), Some(-1));
    assert_eq!(bsr(5, 64), Some(0));
    assert_eq!(bsr(5, -1), None, "a negative shift is bsl: AtomVM's C");
}

fn fixtures_dir() -> Option<std::path::PathBuf> {
    let dir = std::env::var_os("ATOMVM_WASM_JIT_FIXTURES")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/fixtures").into());
    if dir.join("fx_arith.stream").exists() {
        Some(dir)
    } else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have the fixtures"
        );
        eprintln!("fixtures not found at {}: skipped", dir.display());
        None
    }
}

/// AtomVM's own streams, entered at every label (every third of fx_many),
/// with model primitives of the types they call: everything they do must be
/// the same rewritten.
#[test]
fn fixture_functions_agree() {
    let Some(dir) = fixtures_dir() else { return };
    let (mut atoms_in_all, mut heaps_in_all) = (0, 0);
    for (name, step) in [
        ("fx_arith", 1),
        ("fx_terms", 1),
        ("fx_procs", 1),
        ("fx_many", 3),
    ] {
        let bytes = std::fs::read(dir.join(format!("{name}.stream"))).unwrap();
        let n = atomvm_wasm_jit::stream::parse(&bytes).unwrap().num_entries;
        let streams = vec![bytes.clone()];
        let original = model::prepare(&streams, None).unwrap();
        let rewritten: Vec<_> = diff::OPTIONS
            .iter()
            .map(|o| (*o, model::prepare(&streams, Some(*o)).unwrap()))
            .collect();
        let (mut compared, mut linked, mut returns, mut direct, mut events) = (0, 0, 0, 0, 0);
        let (mut bifs, mut small, mut trims, mut compares, mut frames) = (0, 0, 0, 0, 0);
        let (mut atoms, mut heaps) = (0, 0);
        for label in (1..n).step_by(step) {
            let mut src = gen::Source::seeded(u64::from(label));
            let scenario = atomvm_wasm_jit::oracle::fixture_scenario(&bytes, label, &mut src)
                .expect("fixtures load");
            let agreements = diff::compare_prepared(&scenario, &original, &rewritten)
                .unwrap_or_else(|m| panic!("{name} from label {label}: {m}"));
            for a in agreements {
                compared += u32::from(!a.inconclusive);
                linked = linked.max(a.linked_jumps);
                returns = returns.max(a.linked_exits);
                direct = direct.max(a.direct_calls);
                bifs = bifs.max(a.inlined_bifs);
                atoms = atoms.max(a.inlined_atoms);
                small = small.max(a.small_int_calls);
                trims = trims.max(a.guarded_trims);
                compares = compares.max(a.compare_calls);
                frames = frames.max(a.frame_calls);
                heaps = heaps.max(a.heap_calls);
                events += a.events;
            }
        }
        eprintln!("{name}: {compared} comparisons, {events} events; {linked} jumps and {returns} exits linked, {direct} calls bound, {bifs} BIF calls and {atoms} atoms read in place, {small} sent to the small-integer function, {trims} trims guarded, {compares} compares sent to the comparing function, {frames} frames made in the module, {heaps} heap checks and tuples in the module");
        assert!(compared > 0 && linked > 0 && direct > 0, "{name}");
        atoms_in_all += atoms;
        heaps_in_all += heaps;
    }
    assert!(
        atoms_in_all > 0,
        "AtomVM's atom constants were read in place"
    );
    assert!(
        heaps_in_all > 0,
        "AtomVM's heap checks and tuples went to the heap functions"
    );
}

/// One seed, with its runs printed: `SEED=n cargo test --test oracle one_seed -- --ignored --nocapture`.
#[test]
#[ignore]
fn one_seed() {
    let seed: u64 = std::env::var("SEED").unwrap().parse().unwrap();
    let scenario = gen::scenario(&mut gen::Source::seeded(seed));
    eprintln!("built");
    eprintln!("{:?}", diff::compare(&scenario, &diff::OPTIONS));
}
