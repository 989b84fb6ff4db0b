//! The analysis's instruction reader against wasmparser's, on arbitrary
//! bytes: it never panics, and wherever both read an instruction they read
//! the same bytes and agree on what the rewriter needs to know of it. (The
//! reader may refuse more than wasmparser: SIMD, GC and other proposals.)

#![no_main]

use atomvm_wasm_jit::rewrite::reader::{Op, Reader};
use libfuzzer_sys::fuzz_target;
use wasmparser::{MemArgTarget, Operator};

/// What the reader must answer for wasmparser's `op`.
fn expected(op: &Operator<'_>) -> Op {
    let memory0 = |m: &wasmparser::MemArg| m.target == MemArgTarget::Memory(0);
    match op {
        Operator::LocalGet { local_index } => Op::LocalGet(*local_index),
        Operator::LocalSet { local_index } | Operator::LocalTee { local_index } => {
            Op::LocalWrite(*local_index)
        }
        Operator::I32Const { value } => Op::I32Const(*value),
        Operator::I32Load { memarg } if memory0(memarg) => Op::I32Load(memarg.offset),
        Operator::I32Store { memarg } if memory0(memarg) => Op::I32Store(memarg.offset),
        Operator::Return => Op::Return,
        Operator::End => Op::End,
        Operator::CallIndirect {
            type_index,
            table_index,
        } => Op::CallIndirect {
            ty: *type_index,
            table: *table_index,
        },
        Operator::Call { function_index } => Op::Call(*function_index),
        Operator::ReturnCall { function_index } => Op::ReturnCall(*function_index),
        Operator::ReturnCallIndirect { .. }
        | Operator::TableGet { .. }
        | Operator::TableSet { .. }
        | Operator::TableSize { .. }
        | Operator::TableGrow { .. }
        | Operator::TableFill { .. }
        | Operator::TableCopy { .. }
        | Operator::TableInit { .. }
        | Operator::ElemDrop { .. }
        | Operator::RefFunc { .. }
        | Operator::CallRef { .. }
        | Operator::ReturnCallRef { .. } => Op::UsesTable,
        _ => Op::Other,
    }
}

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
