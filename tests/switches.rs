//! `engine::set` switches each rewrite off and on again for modules loaded
//! afterwards: its own test binary, since the switches are process-wide.

use atomvm_wasm_jit::engine::{self, Rewrite};

/// Whether `r` is on in `o`.
fn is_on(o: &atomvm_wasm_jit::rewrite::Options, r: Rewrite) -> bool {
    match r {
        Rewrite::TailCalls => o.tail_calls,
        Rewrite::DirectPrimitives => o.direct_primitives,
        Rewrite::ComputedJumps => o.computed_jumps,
        Rewrite::ImportedBifs => o.imported_bifs.is_some(),
        Rewrite::SmallIntBifs => o.small_int_bifs.is_some(),
        Rewrite::TrimLiveRegs => o.trim_live_regs.is_some(),
        Rewrite::ImmediateCompares => o.immediate_compares,
        Rewrite::StackFrames => o.stack_frames.is_some(),
        Rewrite::MapLookups => o.map_lookups && o.map_get_bif.is_some(),
        Rewrite::MapUpdates => o.map_updates.is_some(),
        Rewrite::AtomTerms => o.atom_terms.is_some(),
        Rewrite::HeapAllocs => o.heap_allocs.is_some(),
    }
}

#[test]
fn each_switch_turns_its_rewrite_alone_off_and_on_again() {
    let defaults = engine::rewrite_options();
    for r in Rewrite::ALL {
        assert!(is_on(&defaults, r), "{r:?} is on by default natively");
    }
    for r in Rewrite::ALL {
        engine::set(r, false);
        let o = engine::rewrite_options();
        for other in Rewrite::ALL {
            assert_eq!(is_on(&o, other), other != r, "{r:?} off: {other:?}");
        }
        engine::set(r, true);
        assert_eq!(engine::rewrite_options(), defaults, "{r:?} on again");
    }
}
