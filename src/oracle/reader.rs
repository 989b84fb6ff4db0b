//! The reference for the analysis's instruction reader
//! (`rewrite/reader.rs`): wasmparser's decoder, whose instructions
//! [`expected`] maps to what the reader must answer. Its unit tests and
//! the `reader` fuzz target compare the two.

use crate::rewrite::reader::Op;
use wasmparser::{MemArgTarget, Operator};

/// What the reader must answer for wasmparser's `op`.
pub fn expected(op: &Operator<'_>) -> Op {
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
