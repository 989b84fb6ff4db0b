//! Each condition under which a rewrite must not apply, with a program in
//! which it holds (issue 9, defects 3-7): the rewrite leaves that code as it
//! was, the module still loads under every option, and where the program
//! can run, the differential oracle finds original and rewritten alike.

use atomvm_wasm_jit::error::ErrorKind;
use atomvm_wasm_jit::oracle::{diff, gen, model};
use atomvm_wasm_jit::registry::{self, Loaded};
use atomvm_wasm_jit::rewrite::Options;
use atomvm_wasm_jit::testgen::{self, ModuleSpec};

fn options() -> impl Iterator<Item = Options> {
    (0..8u8).map(|bits| Options {
        shared_memory: bits & 1 != 0,
        tail_calls: bits & 2 != 0,
        direct_primitives: bits & 4 != 0,
    })
}

const ALL: Options = Options {
    shared_memory: true,
    tail_calls: true,
    direct_primitives: true,
};

fn prepared(spec: &ModuleSpec, opts: Options) -> Loaded {
    registry::prepare(&testgen::stream_of(spec), opts).unwrap_or_else(|e| panic!("{opts:?}: {e}"))
}

/// Runs `spec` as module 0 from label 1 with x[i] = `x[i]`, as generated and
/// rewritten; returns x[1] at the end after checking they agree.
fn run_agreeing(spec: &ModuleSpec, x: &[(usize, u32)]) -> u32 {
    let mut scenario = gen::scenario(&mut gen::Source::seeded(1));
    scenario.streams = vec![testgen::stream_of(spec)];
    scenario.iface_types = gen::iface_types();
    scenario.entry_module = 0;
    scenario.entry_label = 1;
    scenario.x = [0; 16];
    for (i, v) in x {
        scenario.x[*i] = *v;
    }
    scenario.reductions = 100;
    let agreements = diff::compare(&scenario, &diff::OPTIONS).unwrap_or_else(|m| panic!("{m}"));
    assert_eq!(agreements.len(), diff::OPTIONS.len(), "the program loads");
    let prepared = model::prepare(&scenario.streams, None).unwrap();
    let run = model::with_stack(|| model::run(&prepared, &scenario).unwrap());
    let at = (model::CTX + 0x18 + 4) as usize;
    u32::from_le_bytes(run.memory[at..at + 4].try_into().unwrap())
}

#[test]
fn local_2_written_keeps_its_primitive_calls_through_the_pointer() {
    let spec = testgen::local2_written();
    let out = prepared(&spec, ALL).module;
    assert_eq!((out.direct_calls, out.trampolined_calls), (0, 1));
    // Label 1 calls entry 10 of the other interface: the model's "alt"
    // entry runs, as in the original.
    run_agreeing(&spec, &[(2, model::ALT_IFACE)]);
}

#[test]
fn calls_past_the_interface_are_read_when_made() {
    let spec = testgen::past_interface();
    let out = prepared(&spec, ALL).module;
    assert_eq!(
        (out.direct_calls, out.trampolined_calls),
        (1, 1),
        "entry 80 is not bound, 10 is"
    );
    assert_eq!(run_agreeing(&spec, &[]), 3);
    // Taken: entry 80 is whatever the words past the interface hold when
    // the call is made (the model changes them between slices).
    run_agreeing(&spec, &[(0, 12345)]);
}

#[test]
fn jumps_in_a_called_function_are_not_linked() {
    let spec = testgen::called_jump();
    assert_eq!(prepared(&spec, ALL).module.linked_jumps, 0);
    assert_eq!(
        run_agreeing(&spec, &[]),
        99,
        "label 4 runs after label 1 returned"
    );
}

#[test]
fn a_function_at_the_locals_limit_is_not_linked() {
    for (locals, linked) in [(50_000, 0), (49_999, 1)] {
        let spec = testgen::many_locals(locals);
        for opts in options() {
            let out = prepared(&spec, opts).module;
            let expect = if opts.tail_calls { linked } else { 0 };
            assert_eq!(out.linked_jumps, expect, "{locals} locals, {opts:?}");
        }
    }
    // (wasmi cannot run functions with that many locals; the node suite
    // runs this program under V8.)
}

#[test]
fn a_body_that_linking_would_make_too_large_is_not_linked() {
    // 1.8 MB of jumps: linked, about 8 MB, past V8's 7,654,321 bytes.
    let big = testgen::big_body(1_800_000);
    for opts in options() {
        let out = prepared(&big, opts).module;
        assert_eq!(out.linked_jumps, 0, "{opts:?}");
    }
    let small = testgen::big_body(10_000);
    assert_eq!(prepared(&small, ALL).module.linked_jumps, 1000);
    assert_eq!(run_agreeing(&small, &[]), 2);
}

#[test]
fn invalid_modules_are_refused_whatever_the_options() {
    for (name, spec) in testgen::invalid_but_rewritable() {
        for opts in options() {
            let err = registry::prepare(&testgen::stream_of(&spec), opts)
                .expect_err(&format!("{name} loaded with {opts:?}"));
            assert_eq!(err.kind(), ErrorKind::BadModule, "{name}: {err}");
        }
    }
}

#[test]
fn every_stream_gets_the_same_verdict_under_every_option() {
    let mut streams = testgen::host_streams();
    streams.extend(
        testgen::bad_streams()
            .into_iter()
            .map(|(n, b, _)| (n.to_string(), b)),
    );
    for (name, bytes) in streams {
        let verdicts: Vec<bool> = options()
            .map(|o| registry::prepare(&bytes, o).is_ok())
            .collect();
        assert!(
            verdicts.iter().all(|v| *v == verdicts[0]),
            "{name}: {verdicts:?}"
        );
    }
}
