//! The analysis's instruction reader against wasmparser's, on arbitrary
//! bytes: it never panics, and wherever both read an instruction they read
//! the same bytes and agree on what the rewriter needs to know of it. (The
//! reader may refuse more than wasmparser: SIMD, GC and other proposals.)

#![no_main]

use atomvm_wasm_jit::oracle::reader::expected;
use atomvm_wasm_jit::rewrite::reader::Reader;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut bytes = vec![0u8]; // a body without locals
    bytes.extend_from_slice(data);
    let mut ours = Reader::new(&bytes, 1, bytes.len(), 0);
    let body = wasmparser::FunctionBody::new(wasmparser::BinaryReader::new(&bytes, 0));
    let Ok(mut theirs) = body.get_operators_reader() else {
        return;
    };
    while !ours.eof() && !theirs.eof() {
        let start = ours.position();
        assert_eq!(start, theirs.original_position() as usize);
        let (Ok(op), Ok(reference)) = (ours.read(), theirs.read()) else {
            return; // either refused: nothing more to compare
        };
        assert_eq!(
            ours.position(),
            theirs.original_position() as usize,
            "at {start}"
        );
        assert_eq!(op, expected(&reference), "at {start}");
    }
});
