//! Each condition under which a rewrite must not apply, with a program in
//! which it holds (issue 9, defects 3-7): the rewrite leaves that code as it
//! was, the module still loads under every option, and where the program
//! can run, the differential oracle finds original and rewritten alike.

use atomvm_wasm_jit::error::ErrorKind;
use atomvm_wasm_jit::oracle::{diff, gen, model};
use atomvm_wasm_jit::registry::{self, Loaded};
use atomvm_wasm_jit::rewrite::{Options, Rewritten};
use atomvm_wasm_jit::testgen::{self, BeforeReturn, BifForm, ModuleSpec};

fn options() -> impl Iterator<Item = Options> {
    Options::every(false).chain(Options::every(true))
}

const ALL: Options = Options::all(true);

fn prepared(spec: &ModuleSpec, opts: Options) -> Loaded {
    registry::prepare(&testgen::stream_of(spec), opts).unwrap_or_else(|e| panic!("{opts:?}: {e}"))
}

/// Runs `spec` as module 0 from label 1 with x[i] = `x[i]`, as generated and
/// rewritten; returns x[1] at the end after checking they agree.
fn run_agreeing(spec: &ModuleSpec, x: &[(usize, u32)]) -> u32 {
    run_agreeing_with(&[spec], x).0
}

/// [`run_agreeing`] with modules 0, 1, ...; also returns how the run ended.
fn run_agreeing_with(specs: &[&ModuleSpec], x: &[(usize, u32)]) -> (u32, model::Outcome) {
    let (x, outcome) = run_agreeing_x(specs, x);
    (x[1], outcome)
}

/// [`run_agreeing_with`], returning x[0..4] at the end.
fn run_agreeing_x(specs: &[&ModuleSpec], x: &[(usize, u32)]) -> ([u32; 4], model::Outcome) {
    let mut scenario = gen::scenario(&mut gen::Source::seeded(1));
    scenario.streams = specs.iter().map(|s| testgen::stream_of(s)).collect();
    scenario.iface_types = gen::iface_types();
    scenario.entry_module = 0;
    scenario.entry_label = 1;
    scenario.x = [0; 16];
    for (i, v) in x {
        scenario.x[*i] = *v;
    }
    scenario.reductions = 100;
    // Enough slices for the tests' programs, whatever the seed drew.
    scenario.max_slices = 8;
    let agreements = diff::compare(&scenario, &diff::OPTIONS).unwrap_or_else(|m| panic!("{m}"));
    assert_eq!(agreements.len(), diff::OPTIONS.len(), "the program loads");
    let prepared = model::prepare(&scenario.streams, None).unwrap();
    let run = model::with_stack(|| model::run(&prepared, &scenario).unwrap());
    let x_at = |i: u32| {
        let at = (model::CTX + 0x18 + 4 * i) as usize;
        u32::from_le_bytes(run.memory[at..at + 4].try_into().unwrap())
    };
    ([x_at(0), x_at(1), x_at(2), x_at(3)], run.outcome)
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

/// Exits in [`testgen::returning`] besides label 1's: the ends of the three
/// stub labels (`local.get 0; end`) and label 3's unreachable end.
const OTHER_EXITS: u32 = 4;
/// Label 1's: the generator's return and the unreachable end.
const LABEL_1_EXITS: u32 = 2;
const ALL_EXITS: u32 = OTHER_EXITS + LABEL_1_EXITS;

#[test]
fn a_return_without_room_for_its_locals_is_not_linked() {
    // The fast path needs two locals: the entry module and the label.
    for (locals, linked) in [(49_999, 0), (49_998, LABEL_1_EXITS)] {
        let spec = testgen::returning_with((None, 3), 5, locals, BeforeReturn::Nothing, 10);
        for opts in options() {
            let out = prepared(&spec, opts).module;
            let expect = if opts.tail_calls && opts.computed_jumps {
                OTHER_EXITS + linked
            } else {
                0
            };
            assert_eq!(out.linked_exits, expect, "{locals} locals, {opts:?}");
        }
    }
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

/// 128 labels; label 1 makes `calls` calls of label 127, whose index takes
/// two bytes once the module imports its primitives (renumbered calls);
/// label 2 calls a primitive, which makes it do so.
fn calls_of_label_127(calls: u32) -> ModuleSpec {
    let mut bodies: Vec<_> = (0..128).map(|_| testgen::stub()).collect();
    let mut l1 = testgen::Body::new();
    for _ in 0..calls {
        l1.call_label(127);
    }
    bodies[1] = l1.finish();
    let mut l2 = testgen::Body::new();
    l2.tail_primitive(testgen::prim::TERMINATE_CONTEXT);
    bodies[2] = l2.finish();
    ModuleSpec::standard(bodies)
}

#[test]
fn a_body_that_renumbered_calls_would_make_too_large_keeps_the_table() {
    // 9 bytes a call: 7.2 MB, within V8's 7,654,321 bytes; renumbered,
    // 10 bytes a call, 8 MB.
    let out = prepared(&calls_of_label_127(800_000), ALL).module;
    assert!(!out.detached, "the module keeps its table");
    assert_eq!(out.direct_calls, 0);
    let out = prepared(&calls_of_label_127(700_000), ALL).module;
    assert!(out.detached, "7 MB renumbered is within the limit");
    assert_eq!(out.direct_calls, 1);
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
        // The streams of megabytes: each rewrite alone, none and all.
        let sets: Vec<Options> = if bytes.len() > 1 << 20 {
            Options::each(false)
                .into_iter()
                .chain(Options::each(true))
                .collect()
        } else {
            options().collect()
        };
        let verdicts: Vec<bool> = sets
            .iter()
            .map(|o| registry::prepare(&bytes, *o).is_ok())
            .collect();
        assert!(
            verdicts.iter().all(|v| *v == verdicts[0]),
            "{name}: {verdicts:?}"
        );
    }
}

#[test]
fn returns_within_the_module_are_linked_and_others_are_not() {
    use atomvm_wasm_jit::testgen::returning;
    let here = returning((None, 3), 5);
    assert_eq!(prepared(&here, ALL).module.linked_exits, ALL_EXITS);
    let off = Options {
        computed_jumps: false,
        ..ALL
    };
    assert_eq!(prepared(&here, off).module.linked_exits, 0, "switched off");
    let plain = Options {
        tail_calls: false,
        ..ALL
    };
    assert_eq!(
        prepared(&here, plain).module.linked_exits,
        0,
        "needs tail calls"
    );
    let (x1, outcome) = run_agreeing_with(&[&here], &[]);
    assert_eq!(
        (x1, outcome),
        (11, model::Outcome::Terminated),
        "label 3 after the return"
    );
}

#[test]
fn a_continuation_past_the_labels_goes_to_the_loop() {
    // The generator's return stores label 7 + 1; the guard on the label
    // leaves it to the loop, which finds no such label.
    let past = testgen::returning((None, 7), 5);
    assert_eq!(prepared(&past, ALL).module.linked_exits, ALL_EXITS);
    let (x1, outcome) = run_agreeing_with(&[&past], &[]);
    assert_eq!((x1, outcome), (1, model::Outcome::Ended));
}

#[test]
fn a_return_to_another_module_goes_through_do_return() {
    // cp in module 1: the generator's own check sends it to do_return and
    // the loop, which runs module 1's label 3 (adding 100, not 10).
    let away = testgen::returning((Some(1), 3), 5);
    let other = testgen::returning_with((None, 3), 5, 11, BeforeReturn::Nothing, 100);
    let (x1, outcome) = run_agreeing_with(&[&away, &other], &[]);
    assert_eq!((x1, outcome), (101, model::Outcome::Terminated));
}

#[test]
fn a_module_switched_before_the_return_goes_to_the_loop() {
    // Label 1 of module 0 switches to module 1, whose index cp then names:
    // the continuation is stored, and the guard on the entry module leaves
    // the call of label 3 to the loop, in module 1.
    let switching = testgen::returning_with((None, 3), 5, 11, BeforeReturn::SwitchModule(1), 10);
    let other = testgen::returning_with((None, 3), 5, 11, BeforeReturn::Nothing, 100);
    assert_eq!(prepared(&switching, ALL).module.linked_exits, ALL_EXITS);
    let (x1, outcome) = run_agreeing_with(&[&switching, &other], &[]);
    assert_eq!((x1, outcome), (101, model::Outcome::Terminated));
}

#[test]
fn a_return_with_no_reductions_left_goes_to_the_loop() {
    // The loop ends the slice instead of calling label 3, which runs in the
    // next slice (the oracle compares the slices' ends too).
    let spent = testgen::returning_with((None, 3), 5, 11, BeforeReturn::SpendReductions, 10);
    assert_eq!(prepared(&spent, ALL).module.linked_exits, ALL_EXITS);
    let (x1, outcome) = run_agreeing_with(&[&spent], &[]);
    assert_eq!((x1, outcome), (11, model::Outcome::Terminated));
}

/// x[1] after `atom_call`: the term of the model's global atom for module
/// 0's atom 2 (`1 + 3 * 2`, as `model::ATOMS` holds it).
const ATOM_RESULT: u32 = (7 << 6) | 0xB;

#[test]
fn an_atom_asked_for_as_generated_is_read_in_place() {
    let spec = testgen::atom_call(BifForm::Generated);
    assert_eq!(prepared(&spec, ALL).module.inlined_atoms, 1);
    let off = Options {
        atom_terms: None,
        ..ALL
    };
    assert_eq!(prepared(&spec, off).module.inlined_atoms, 0, "switched off");
    assert_eq!(run_agreeing(&spec, &[]), ATOM_RESULT);
}

#[test]
fn an_atom_asked_for_otherwise_stays_a_call() {
    stays_a_call(
        testgen::atom_call,
        |r| r.inlined_atoms,
        ATOM_RESULT,
        "entry 3",
    );
}

/// x[1] after `bif_call`: what the model's BIF (import 2 of module 0)
/// returns when called with ctx (its generic primitives return their
/// first argument, ctx).
const BIF_RESULT: u32 = model::CTX;

#[test]
fn a_bif_asked_for_as_generated_is_read_in_place() {
    let spec = testgen::bif_call(BifForm::Generated);
    assert_eq!(prepared(&spec, ALL).module.inlined_bifs, 1);
    let off = Options {
        imported_bifs: None,
        ..ALL
    };
    assert_eq!(prepared(&spec, off).module.inlined_bifs, 0, "switched off");
    assert_eq!(run_agreeing(&spec, &[]), BIF_RESULT);
}

#[test]
fn a_bif_asked_for_otherwise_stays_a_call() {
    stays_a_call(testgen::bif_call, |r| r.inlined_bifs, BIF_RESULT, "entry 8");
}

/// The forms of an entry call read in place (`bif_call`, `atom_call`) other
/// than the generated one, each a condition under which it must stay a
/// call (`count` stays 0), and runs that agree: x[1] is `result`, or, for
/// the entry with another type, the call traps (the model's entry has
/// type `(i32, i32) -> i32`).
fn stays_a_call(
    spec_of: fn(BifForm) -> ModuleSpec,
    count: fn(&Rewritten) -> u32,
    result: u32,
    entry: &str,
) {
    for (form, why) in [
        (BifForm::IndexInLocal, "the index is not a constant"),
        (BifForm::WritesLocal2, "local 2 may not be the interface"),
        (BifForm::Called, "a caller may pass anything as local 2"),
        (BifForm::OtherType, "the entry with another type"),
    ] {
        let spec = spec_of(form);
        for opts in options() {
            assert_eq!(
                count(&prepared(&spec, opts).module),
                0,
                "{entry} {form:?}: {why}"
            );
        }
        let (x1, outcome) = run_agreeing_with(&[&spec], &[]);
        match form {
            BifForm::OtherType => {
                assert!(
                    matches!(outcome, model::Outcome::Trap(_)),
                    "{entry}: {outcome:?}"
                )
            }
            _ => assert_eq!(
                (x1, outcome),
                (result, model::Outcome::Terminated),
                "{entry} {form:?}"
            ),
        }
    }
}

/// `small_int_calls` for `+` of the model on the four pairs of 1 and 2,
/// and on 1 and an atom: the results land in the model's DATA.
fn small_int_spec() -> ModuleSpec {
    let add = atomvm_wasm_jit::rewrite::SmallIntBifs::MODEL.add;
    testgen::small_int_calls(&[add], &[0x1F, 0x2F, 0xB], model::DATA)
}

#[test]
fn bif_calls_go_to_the_small_int_function() {
    let spec = small_int_spec();
    assert_eq!(prepared(&spec, ALL).module.small_int_calls, 9);
    let off = Options {
        small_int_bifs: None,
        ..ALL
    };
    assert_eq!(
        prepared(&spec, off).module.small_int_calls,
        0,
        "switched off"
    );
    let (_, outcome) = run_agreeing_with(&[&spec], &[]);
    assert_eq!(outcome, model::Outcome::Terminated);
}

#[test]
fn bif_calls_stay_calls_where_the_function_cannot_be_added() {
    // The module keeps its table (no `ci.t4` to fall back on).
    let spec = small_int_spec();
    let attached = Options {
        direct_primitives: false,
        ..ALL
    };
    let out = prepared(&spec, attached).module;
    assert_eq!((out.detached, out.small_int_calls), (false, 0));
    // Calls of another type: a BIF of one argument.
    let other = testgen::bif_call(BifForm::Generated);
    for opts in options() {
        assert_eq!(prepared(&other, opts).module.small_int_calls, 0, "{opts:?}");
    }
}

#[test]
fn a_trim_as_generated_is_made_only_with_extended_registers() {
    let spec = testgen::trim_call(BifForm::Generated);
    assert_eq!(prepared(&spec, ALL).module.guarded_trims, 1);
    let off = Options {
        trim_live_regs: None,
        ..ALL
    };
    assert_eq!(prepared(&spec, off).module.guarded_trims, 0, "switched off");
    // The model's process starts with no extended x registers: the call is
    // skipped, and not seen, in both.
    assert_eq!(run_agreeing(&spec, &[]), 5);
}

#[test]
fn a_trim_otherwise_stays_a_call() {
    for (form, why) in [
        (BifForm::IndexInLocal, "the live count is not a constant"),
        (BifForm::WritesLocal2, "local 2 may not be the interface"),
        (BifForm::Called, "a caller may pass anything as local 2"),
        (BifForm::OtherType, "entry 7 with another type"),
    ] {
        let spec = testgen::trim_call(form);
        for opts in options() {
            assert_eq!(
                prepared(&spec, opts).module.guarded_trims,
                0,
                "{form:?}: {why}"
            );
        }
        let (x1, outcome) = run_agreeing_with(&[&spec], &[]);
        match form {
            // The model's entry 7 has type (i32, i32) -> (): the call traps.
            BifForm::OtherType => {
                assert!(matches!(outcome, model::Outcome::Trap(_)), "{outcome:?}")
            }
            _ => assert_eq!((x1, outcome), (5, model::Outcome::Terminated), "{form:?}"),
        }
    }
}

/// Calls of `term_compare` on immediates: equal words, small integers,
/// atoms (twice each, so that the cache answers), and another term.
fn compare_spec(form: BifForm, globals: u32) -> ModuleSpec {
    let compares = [
        (0x1F, 0x1F, 1),
        (0x1F, 0xFFFF_FFFF, 0),
        (0x4B, 0x8B, 1),
        (0x4B, 0x8B, 0),
        (0x4B, 0x1E, 1),
    ];
    let mut spec = testgen::compare_calls(form, &compares, model::DATA);
    spec.globals = globals;
    spec
}

#[test]
fn compares_as_generated_go_to_the_comparing_function() {
    let spec = compare_spec(BifForm::Generated, 0);
    assert_eq!(prepared(&spec, ALL).module.compare_calls, 5);
    let off = Options {
        immediate_compares: false,
        ..ALL
    };
    assert_eq!(prepared(&spec, off).module.compare_calls, 0, "switched off");
    let (_, outcome) = run_agreeing_with(&[&spec], &[]);
    assert_eq!(outcome, model::Outcome::Terminated);
}

/// Under every option set, `count` of `spec`'s rewrite is 0 (`why`), and
/// the program runs alike as generated and rewritten: it terminates, or, for
/// `OtherType`, traps (the model's entries have the generated type).
fn stays_calls(spec: &ModuleSpec, form: BifForm, count: fn(&Rewritten) -> u32, why: &str) {
    for opts in options() {
        assert_eq!(count(&prepared(spec, opts).module), 0, "{form:?}: {why}");
    }
    let (_, outcome) = run_agreeing_with(&[spec], &[]);
    match form {
        BifForm::OtherType => {
            assert!(matches!(outcome, model::Outcome::Trap(_)), "{outcome:?}")
        }
        _ => assert_eq!(outcome, model::Outcome::Terminated, "{form:?}"),
    }
}

/// With direct primitives off the module keeps its table: nothing to bind
/// the calls to, so `count` is 0.
fn stays_calls_attached(spec: &ModuleSpec, count: fn(&Rewritten) -> u32) {
    let attached = Options {
        direct_primitives: false,
        ..ALL
    };
    let out = prepared(spec, attached).module;
    assert_eq!((out.detached, count(&out)), (false, 0));
}

#[test]
fn compares_otherwise_stay_calls() {
    let count = |r: &Rewritten| r.compare_calls;
    for (form, globals, why) in [
        (BifForm::WritesLocal2, 0, "local 2 may not be the interface"),
        (BifForm::Called, 0, "a caller may pass anything as local 2"),
        (BifForm::OtherType, 0, "entry 11 with another type"),
        (BifForm::Generated, 2, "the module defines globals"),
    ] {
        stays_calls(&compare_spec(form, globals), form, count, why);
    }
    stays_calls_attached(&compare_spec(BifForm::Generated, 0), count);
}

#[test]
fn frames_as_generated_go_to_the_frame_functions() {
    let spec = testgen::frames(BifForm::Generated, 2, 3);
    assert_eq!(prepared(&spec, ALL).module.frame_calls, 2);
    let off = Options {
        stack_frames: None,
        ..ALL
    };
    assert_eq!(prepared(&spec, off).module.frame_calls, 0, "switched off");
    // Made and dropped (both answer true), in the module or by the model's
    // entries, alike.
    let (x1, outcome) = run_agreeing_with(&[&spec], &[]);
    assert_eq!((x1, outcome), (1, model::Outcome::Terminated));
    // Frames the module leaves to the C: too many words of stack, of heap.
    for (s, h) in [(0x1_0000, 0), (0, 0x100_0000)] {
        let spec = testgen::frames(BifForm::Generated, s, h);
        run_agreeing_with(&[&spec], &[]);
    }
}

#[test]
fn frames_otherwise_stay_calls() {
    let count = |r: &Rewritten| r.frame_calls;
    for (form, why) in [
        (BifForm::WritesLocal2, "local 2 may not be the interface"),
        (BifForm::Called, "a caller may pass anything as local 2"),
        (BifForm::OtherType, "entries 5 and 9 with other types"),
    ] {
        stays_calls(&testgen::frames(form, 2, 3), form, count, why);
    }
    stays_calls_attached(&testgen::frames(BifForm::Generated, 2, 3), count);
}

fn heap_spec(form: BifForm, heap_need: u32) -> ModuleSpec {
    let top = atomvm_wasm_jit::rewrite::HeapBounds::MODEL.top;
    testgen::heap_allocs(form, heap_need, 3, top)
}

#[test]
fn heap_checks_and_tuples_as_generated_go_to_the_heap_functions() {
    // The model's heap: 1024 words free, from DATA up, at first.
    let spec = heap_spec(BifForm::Generated, 20);
    assert_eq!(prepared(&spec, ALL).module.heap_calls, 2);
    let off = Options {
        heap_allocs: None,
        ..ALL
    };
    assert_eq!(prepared(&spec, off).module.heap_calls, 0, "switched off");
    // No collection due: true; the tuple of 3 at the top, which moves 4
    // words; alike in the module and by the model's entries.
    let (x, outcome) = run_agreeing_x(&[&spec], &[]);
    let d = model::DATA;
    assert_eq!((x[1], x[2], x[3]), (1, d | 2, d + 16), "{x:x?}");
    assert_eq!(outcome, model::Outcome::Terminated);
    // Needs the module leaves to the C: one more than is free (grow),
    // one under the shrink bound (1024 > 15 * 64), one whose product
    // wraps (2^26 * 64 = 0 modulo 2^32), none. The model's entry logs
    // those calls and answers anything but 1, on both sides.
    for need in [1025, 15, 0x400_0000, 0] {
        let (x, _) = run_agreeing_x(&[&heap_spec(BifForm::Generated, need)], &[]);
        assert_ne!(x[1], 1, "need {need}");
    }
    // At both bounds: all 1024 words, and 16 (16 * 64 = 1024).
    for need in [1024, 16] {
        let (x, _) = run_agreeing_x(&[&heap_spec(BifForm::Generated, need)], &[]);
        assert_eq!(x[1], 1, "need {need}");
    }
}

#[test]
fn heap_checks_and_tuples_otherwise_stay_calls() {
    let count = |r: &Rewritten| r.heap_calls;
    for (form, why) in [
        (BifForm::WritesLocal2, "local 2 may not be the interface"),
        (BifForm::Called, "a caller may pass anything as local 2"),
        (BifForm::OtherType, "entries 12 and 16 with other types"),
    ] {
        stays_calls(&heap_spec(form, 20), form, count, why);
    }
    stays_calls_attached(&heap_spec(BifForm::Generated, 20), count);
}

/// Lookups of small integers and atoms in the model's maps (found, not
/// found, past a boxed key, past the end of memory is left out: it traps).
fn map_spec(form: BifForm) -> ModuleSpec {
    let [a, b, empty, _] = model::MAP_TERMS;
    let lookups = [
        (a, 0x4B),
        (a, 0x8000_000F),
        (a, 0x5F),
        (b, 0x7FFF_FFFF),
        (b, 0x2F),
        (empty, 0xF),
        (a, 0x3B),
    ];
    testgen::map_lookups(form, &lookups, model::DATA)
}

#[test]
fn map_lookups_as_generated_go_to_the_scanning_function() {
    let spec = map_spec(BifForm::Generated);
    assert_eq!(prepared(&spec, ALL).module.map_calls, 7);
    let off = Options {
        map_lookups: false,
        ..ALL
    };
    assert_eq!(prepared(&spec, off).module.map_calls, 0, "switched off");
    let (_, outcome) = run_agreeing_with(&[&spec], &[]);
    assert_eq!(outcome, model::Outcome::Terminated);
}

#[test]
fn map_lookups_otherwise_stay_calls() {
    let count = |r: &Rewritten| r.map_calls;
    for (form, why) in [
        (BifForm::WritesLocal2, "local 2 may not be the interface"),
        (BifForm::Called, "a caller may pass anything as local 2"),
        (BifForm::OtherType, "entry 49 with another type"),
    ] {
        stays_calls(&map_spec(form), form, count, why);
    }
    stays_calls_attached(&map_spec(BifForm::Generated), count);
}

/// Updates of one key of the model's maps (found after smaller small
/// integers, after an atom, not found; a new key).
fn map_update_spec(form: BifForm) -> ModuleSpec {
    let [a, b, _, _] = model::MAP_TERMS;
    let update = |map, key, new_entries| testgen::MapUpdate {
        map,
        key,
        value: 0x99F,
        new_entries,
        pairs: 1,
        kv: model::DATA + 0x800,
        top: None,
    };
    let updates = [
        update(a, 0x1F, 0),
        update(b, 0x8B, 0),
        update(a, 0x4B, 0),
        update(b, 0x5F, 1),
    ];
    let heap_ptr = atomvm_wasm_jit::rewrite::HeapLayout::MODEL.heap_ptr;
    testgen::map_updates(form, &updates, heap_ptr, model::DATA + 0xC00)
}

#[test]
fn map_updates_as_generated_go_to_the_updating_function() {
    let spec = map_update_spec(BifForm::Generated);
    assert_eq!(prepared(&spec, ALL).module.map_update_calls, 4);
    let off = Options {
        map_updates: None,
        ..ALL
    };
    assert_eq!(
        prepared(&spec, off).module.map_update_calls,
        0,
        "switched off"
    );
    let (_, outcome) = run_agreeing_with(&[&spec], &[]);
    assert_eq!(outcome, model::Outcome::Terminated);
}

#[test]
fn map_updates_otherwise_stay_calls() {
    let count = |r: &Rewritten| r.map_update_calls;
    for (form, why) in [
        (BifForm::WritesLocal2, "local 2 may not be the interface"),
        (BifForm::Called, "a caller may pass anything as local 2"),
        (BifForm::OtherType, "entry 63 with another type"),
    ] {
        stays_calls(&map_update_spec(form), form, count, why);
    }
    stays_calls_attached(&map_update_spec(BifForm::Generated), count);
}

/// `map_get` of the model on keys found, not found, past a boxed key.
fn map_get_spec(pointer: u32) -> ModuleSpec {
    let [a, b, _, _] = model::MAP_TERMS;
    let lookups = [(a, 0x4B), (a, 0x5F), (b, 0x2F), (b, 0x8B)];
    testgen::map_get_calls(pointer, &lookups, model::DATA)
}

#[test]
fn map_get_calls_go_to_the_map_get_function() {
    let spec = map_get_spec(atomvm_wasm_jit::rewrite::MAP_GET_MODEL);
    assert_eq!(prepared(&spec, ALL).module.map_get_calls, 4);
    let off = Options {
        map_get_bif: None,
        ..ALL
    };
    assert_eq!(prepared(&spec, off).module.map_get_calls, 0, "switched off");
    let (_, outcome) = run_agreeing_with(&[&spec], &[]);
    assert_eq!(outcome, model::Outcome::Terminated);
    // Attached: no ci.t3 to fall back on.
    let attached = Options {
        direct_primitives: false,
        ..ALL
    };
    let out = prepared(&spec, attached).module;
    assert_eq!((out.detached, out.map_get_calls), (false, 0));
}
