//! Stream loading against generated modules: every well-formed one passes the
//! checks and validates after rewriting; every bent one is refused with a
//! message naming the problem.

use atomvm_wasm_jit::error::ErrorKind;
use atomvm_wasm_jit::testgen::{self, ModuleSpec};
use atomvm_wasm_jit::{module, rewrite, stream};
use wasm_encoder::{EntityType, ExportKind, ValType};

/// What a load does before the module goes to the registry: parse, check,
/// the engine's verdict on the module as it came, rewrite.
fn load_checks(bytes: &[u8]) -> Result<Box<[u8]>, atomvm_wasm_jit::error::Error> {
    let s = stream::parse(bytes)?;
    let shape = module::check(s.wasm, s.num_entries, s.wasm_offset)?;
    atomvm_wasm_jit::engine::validate(s.wasm, s.wasm_offset)?;
    let opts = rewrite::Options::plain(false);
    rewrite::rewrite(s.wasm, &shape, opts, s.wasm_offset).map(|r| r.wasm)
}

fn validate(wasm: &[u8]) {
    wasmparser::Validator::new_with_features(module::features())
        .validate_all(wasm)
        .expect("rewritten module validates");
}

#[test]
fn generated_programs_pass_and_validate_after_rewrite() {
    for (name, bytes) in testgen::host_streams() {
        let out = load_checks(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        validate(&out);
    }
}

#[test]
fn rewrite_matches_memory_sharing_to_the_host() {
    let bytes = testgen::stream_of(&testgen::countdown());
    let s = stream::parse(&bytes).unwrap();
    let shape = module::check(s.wasm, s.num_entries, 0).unwrap();
    for shared in [false, true] {
        let out = rewrite::rewrite(s.wasm, &shape, rewrite::Options::plain(shared), 0)
            .unwrap()
            .wasm;
        validate(&out);
        let again = module::check(&out, s.num_entries, 0).unwrap();
        assert_eq!(again.memory.shared, shared);
        assert_eq!(again.memory.initial, 0);
        assert_eq!(again.memory.maximum, shared.then_some(65536));
        assert_eq!(again.table.initial, 0);
        assert_eq!(again.table.maximum, None);
    }
}

fn refused(spec: &ModuleSpec, expected_kind: ErrorKind, expected_text: &str) {
    let bytes = testgen::stream_of(spec);
    refused_bytes(&bytes, expected_kind, expected_text)
}

fn refused_bytes(bytes: &[u8], expected_kind: ErrorKind, expected_text: &str) {
    let err = load_checks(bytes).expect_err("the module must be refused");
    assert_eq!(err.kind(), expected_kind, "{err}");
    assert!(
        err.message().contains(expected_text),
        "message {:?} does not contain {:?}",
        err.message(),
        expected_text
    );
}

fn small() -> ModuleSpec {
    testgen::countdown()
}

#[test]
fn extra_import_is_refused() {
    let mut m = small();
    m.imports
        .push(("env".into(), "abort".into(), EntityType::Function(0)));
    refused(&m, ErrorKind::ModuleShape, "unexpected import env.abort");
}

#[test]
fn imports_in_the_wrong_order_are_refused() {
    let mut m = small();
    m.imports.swap(0, 1);
    refused(
        &m,
        ErrorKind::ModuleShape,
        "import 0 is env.__indirect_function_table",
    );
}

#[test]
fn missing_table_import_is_refused() {
    let mut m = small();
    m.imports.pop();
    refused(&m, ErrorKind::ModuleShape, "missing imports");
}

#[test]
fn wrong_function_type_is_refused() {
    let mut m = small();
    m.func_types[2] = 1;
    refused(&m, ErrorKind::ModuleShape, "function 2 has type 1");
}

#[test]
fn wrong_type_2_is_refused() {
    let mut m = small();
    m.types[2] = (vec![ValType::I32; 3], vec![]);
    refused(
        &m,
        ErrorKind::ModuleShape,
        "type 2 must be (i32, i32, i32) -> i32",
    );
}

#[test]
fn missing_export_is_refused() {
    let mut m = small();
    m.exports.remove(1);
    refused(
        &m,
        ErrorKind::ModuleShape,
        "label function f1 is not exported",
    );
}

#[test]
fn misnamed_or_extra_export_is_refused() {
    let mut m = small();
    m.exports[1].0 = "g1".into();
    refused(&m, ErrorKind::ModuleShape, "unexpected export \"g1\"");
    let mut m = small();
    m.exports.push(("memory".into(), ExportKind::Memory, 0));
    refused(&m, ErrorKind::ModuleShape, "unexpected export \"memory\"");
    let mut m = small();
    m.exports[1].2 = 2;
    refused(&m, ErrorKind::ModuleShape, "unexpected export \"f1\"");
}

#[test]
fn start_function_is_refused() {
    let mut m = small();
    m.start = Some(0);
    refused(&m, ErrorKind::ModuleShape, "start function");
}

#[test]
fn function_count_must_equal_num_entries() {
    let m = small();
    let wasm = m.encode();
    let bytes = testgen::stream(5, 1, &wasm, &[]);
    refused_bytes(
        &bytes,
        ErrorKind::ModuleShape,
        "4 functions but the stream says num_entries is 5",
    );
}

#[test]
fn garbage_module_is_refused_with_its_stream_offset() {
    let mut wasm = small().encode();
    let cut = wasm.len() - 5;
    wasm.truncate(cut);
    let bytes = testgen::stream(4, 1, &wasm, &[]);
    let err = load_checks(&bytes).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadModule, "{err}");
    assert!(err.message().contains("stream offset"), "{err}");
}

/// Every combination of the rewrites for a stream; each alone, none and
/// all for the streams of megabytes (minutes otherwise).
fn all_options(stream_len: usize) -> Vec<rewrite::Options> {
    if stream_len > 1 << 20 {
        return rewrite::Options::each(false)
            .into_iter()
            .chain(rewrite::Options::each(true))
            .collect();
    }
    rewrite::Options::every(false)
        .chain(rewrite::Options::every(true))
        .collect()
}

fn rewritten(bytes: &[u8], opts: rewrite::Options) -> rewrite::Rewritten {
    let s = stream::parse(bytes).unwrap();
    let shape = module::check(s.wasm, s.num_entries, 0).unwrap();
    let out = rewrite::rewrite(s.wasm, &shape, opts, 0).unwrap();
    validate(&out.wasm);
    out
}

fn imports(wasm: &[u8]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        if let wasmparser::Payload::ImportSection(r) = payload.unwrap() {
            for i in r.into_imports() {
                let i = i.unwrap();
                out.push((i.module.to_string(), i.name.to_string()));
            }
        }
    }
    out
}

#[test]
fn every_program_validates_under_every_option() {
    for (name, bytes) in testgen::host_streams() {
        for opts in all_options(bytes.len()) {
            let out = rewritten(&bytes, opts);
            assert_eq!(out.detached, opts.direct_primitives, "{name} {opts:?}");
        }
    }
}

#[test]
fn jumps_are_linked_and_primitives_bound() {
    let bytes = testgen::stream_of(&testgen::chain(10));
    let opts = rewrite::Options::all(true);
    let out = rewritten(&bytes, opts);
    assert_eq!(out.linked_jumps, 9, "labels 1..9 each jump once");
    assert_eq!(out.direct_calls, 9, "each label can terminate");
    let names = imports(&out.wasm);
    assert_eq!(names[0], ("env".to_string(), "memory".to_string()));
    assert!(
        names.contains(&("p".to_string(), "10:1".to_string())),
        "{names:?}"
    );
    assert!(
        !names.iter().any(|(_, n)| n == "__indirect_function_table"),
        "no table import: {names:?}"
    );

    let plain = rewritten(&bytes, rewrite::Options::plain(true));
    assert_eq!(
        (plain.linked_jumps, plain.direct_calls, plain.detached),
        (0, 0, false)
    );
    assert!(imports(&plain.wasm)
        .iter()
        .any(|(_, n)| n == "__indirect_function_table"));
}

#[test]
fn jumps_in_functions_that_write_their_parameters_are_not_linked() {
    let mut spec = testgen::chain(4);
    let mut body = testgen::Body::new();
    body.ops(&[
        wasm_encoder::Instruction::LocalGet(0),
        wasm_encoder::Instruction::LocalSet(0),
    ])
    .jump(2);
    spec.bodies[1] = body.finish();
    let out = rewritten(
        &testgen::stream_of(&spec),
        rewrite::Options {
            tail_calls: true,
            ..rewrite::Options::plain(false)
        },
    );
    assert_eq!(out.linked_jumps, 2, "labels 2 and 3 only");
}

#[test]
fn trampoline_module_validates_and_matches_its_generator() {
    validate(&rewrite::TRAMPOLINES);
    assert_eq!(&rewrite::TRAMPOLINES[..], &testgen::trampoline_module()[..]);
}

fn uses_return_call(wasm: &[u8]) -> bool {
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        if let wasmparser::Payload::CodeSectionEntry(body) = payload.unwrap() {
            let mut ops = body.get_operators_reader().unwrap();
            while !ops.eof() {
                if let wasmparser::Operator::ReturnCall { .. }
                | wasmparser::Operator::ReturnCallIndirect { .. } = ops.read().unwrap()
                {
                    return true;
                }
            }
        }
    }
    false
}

#[test]
fn without_tail_calls_no_return_call_is_emitted() {
    for (name, bytes) in testgen::host_streams() {
        for direct in [false, true] {
            let opts = rewrite::Options {
                direct_primitives: direct,
                computed_jumps: true,
                ..rewrite::Options::plain(false)
            };
            assert!(
                !uses_return_call(&rewritten(&bytes, opts).wasm),
                "{name} direct={direct}"
            );
        }
        let opts = rewrite::Options::all(false);
        let out = rewritten(&bytes, opts);
        if out.linked_jumps + out.linked_exits > 0 {
            assert!(uses_return_call(&out.wasm), "{name} with tail calls");
        }
    }
}

#[test]
fn an_unknown_section_is_refused_as_such() {
    let wasm = small().encode();
    let mut bad = wasm.clone();
    bad[8] = 0x0e; // the type section's id
    let bytes = testgen::stream(4, 1, &bad, &[]);
    let err = load_checks(&bytes).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadModule, "{err}");
    assert!(
        err.message()
            .contains("unknown section id 14 (at stream offset 26)"),
        "{err}"
    );
}

/// `module::check` and the plan skip the code section's bodies
/// (`module::Sections`): a code section that claims more bytes than the
/// module has is still refused there, by name, and a module cut anywhere in
/// its code section is refused, never read past its end.
#[test]
fn a_code_section_past_the_end_is_refused() {
    let bytes = testgen::stream_of(&small());
    let s = stream::parse(&bytes).unwrap();
    let (wasm, n) = (s.wasm, s.num_entries);
    module::check(wasm, n, 0).expect("the whole module passes");
    let code = wasmparser::Parser::new(0)
        .parse_all(wasm)
        .find_map(|p| match p {
            Ok(wasmparser::Payload::CodeSectionStart {
                unchecked_range, ..
            }) => Some(unchecked_range),
            _ => None,
        })
        .expect("a code section");
    let err =
        module::check(&wasm[..code.end as usize - 1], n, 0).expect_err("cut in its last body");
    assert_eq!(err.kind(), ErrorKind::BadModule, "{err}");
    assert!(
        err.message().contains("code section extends past the end"),
        "{err}"
    );
    for cut in code.start as usize..code.end as usize {
        let err = module::check(&wasm[..cut], n, 0).expect_err("cut in the code section");
        assert_eq!(err.kind(), ErrorKind::BadModule, "cut at {cut}: {err}");
    }
}
