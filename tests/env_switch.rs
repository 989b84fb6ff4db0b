//! `ATOMVM_WASM_JIT_OFF` switches rewrites off for the whole process (read
//! once, on the first load): its own test binary, so that no other test has
//! loaded before.

use atomvm_wasm_jit::engine;

#[test]
fn the_environment_switches_the_named_rewrites_off() {
    std::env::set_var(
        "ATOMVM_WASM_JIT_OFF",
        "computed_jumps, tail_calls,imported_bifs,unknown, small_int_bifs,trim_live_regs,stack_frames,map_lookups,atom_terms,heap_allocs",
    );
    let o = engine::rewrite_options();
    assert!(!o.tail_calls && !o.computed_jumps, "{o:?}");
    assert_eq!(o.imported_bifs, None, "{o:?}");
    assert_eq!(o.small_int_bifs, None, "{o:?}");
    assert_eq!(o.trim_live_regs, None, "{o:?}");
    assert_eq!(o.stack_frames, None, "{o:?}");
    assert!(!o.map_lookups && o.map_get_bif.is_none(), "{o:?}");
    assert_eq!(o.atom_terms, None, "{o:?}");
    assert_eq!(o.heap_allocs, None, "{o:?}");
    // Not named: still on.
    assert!(o.direct_primitives && o.immediate_compares, "{o:?}");
    // Read once: a later change is not seen.
    std::env::set_var("ATOMVM_WASM_JIT_OFF", "");
    assert_eq!(engine::rewrite_options(), o);
}
