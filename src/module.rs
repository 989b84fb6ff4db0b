//! The shape of a JIT module (spec section 4), checked before anything is
//! handed to the engine:
//!
//! - exactly two imports, `env.memory` (a 32-bit memory) then
//!   `env.__indirect_function_table` (a funcref table);
//! - type 2 is `(i32, i32, i32) -> i32` and every function has type 2;
//! - as many functions as the stream's `num_entries`, function `i` exported
//!   as `f<i>` and nothing else exported;
//! - no start function, and no active data or element segment (either would
//!   write into the VM's memory or table when the module is instantiated).
//!
//! This is a structural check with wasmparser's parser only; function bodies
//! are validated by the engine when it compiles the module (natively, by
//! wasmparser's validator: see `engine`).

use crate::error::{Error, Result};
use wasmparser::{
    CompositeInnerType, DataKind, ElementKind, ExternalKind, FuncType, Parser, Payload, TypeRef,
    ValType, WasmFeatures,
};

/// Type index of label functions.
pub const LABEL_TYPE: u32 = 2;
/// Offset of `continuation` in `JITState`, used by the jump sequence.
pub const CONTINUATION_OFFSET: u64 = 4;
/// Offset of `remaining_reductions` in `JITState`.
pub const REDUCTIONS_OFFSET: u64 = 8;

/// The WebAssembly features a JIT module may use: what AtomVM's generator
/// emits and every engine we support (V8 in node 20 and Chromium) runs.
pub fn features() -> WasmFeatures {
    (WasmFeatures::WASM2 | WasmFeatures::THREADS | WasmFeatures::TAIL_CALL)
        .difference(WasmFeatures::SIMD | WasmFeatures::RELAXED_SIMD)
}

/// A parser configured with [`features`], whose offsets are relative to the
/// module (the caller adds the stream offset for messages).
pub fn parser() -> Parser {
    let mut parser = Parser::new(0);
    parser.set_features(features());
    parser
}

/// What the check learned, for the rewriter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shape {
    /// Number of label functions (= `num_entries`).
    pub num_functions: u32,
    /// The imported memory's declared limits.
    pub memory: wasmparser::MemoryType,
    /// The imported table's declared limits.
    pub table: wasmparser::TableType,
}

fn is_label_type(ty: &FuncType) -> bool {
    ty.params() == [ValType::I32; 3] && ty.results() == [ValType::I32]
}

/// Parses `f<i>` with `i` in decimal without leading zeros.
fn label_of_export(name: &str) -> Option<u32> {
    let digits = name.strip_prefix('f')?;
    if digits.is_empty() || (digits.len() > 1 && digits.starts_with('0')) {
        return None;
    }
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Checks `wasm` (found at `base` in the stream) against spec section 4.
pub fn check(wasm: &[u8], num_entries: u32, base: usize) -> Result<Shape> {
    let bad = |e: wasmparser::BinaryReaderError| Error::module(&e, base);
    let at = |offset: u64| base.saturating_add(usize::try_from(offset).unwrap_or(usize::MAX));

    let mut type_2_ok = false;
    let mut memory = None;
    let mut table = None;
    let mut num_functions: Option<u32> = None;
    let mut code_count: Option<u32> = None;
    let mut exported = 0u32;
    let mut seen = Vec::new();

    for payload in parser().parse_all(wasm) {
        match payload.map_err(bad)? {
            Payload::Version { encoding, .. } => {
                if encoding != wasmparser::Encoding::Module {
                    return Err(Error::shape("a component, not a core WebAssembly module"));
                }
            }
            Payload::TypeSection(reader) => {
                for (index, group) in reader.into_iter().enumerate() {
                    let group = group.map_err(bad)?;
                    if index == LABEL_TYPE as usize {
                        let mut types = group.into_types();
                        type_2_ok = match (types.next(), types.next()) {
                            (Some(sub), None) => matches!(
                                &sub.composite_type.inner,
                                CompositeInnerType::Func(f) if is_label_type(f)
                            ),
                            _ => false,
                        };
                    }
                }
            }
            Payload::ImportSection(reader) => {
                for (position, import) in reader.into_imports_with_offsets().enumerate() {
                    let (offset, import) = import.map_err(bad)?;
                    let offset = at(offset);
                    let name = (import.module, import.name);
                    match (position, name, import.ty) {
                        (0, ("env", "memory"), TypeRef::Memory(ty)) if !ty.memory64 => {
                            memory = Some(ty)
                        }
                        (1, ("env", "__indirect_function_table"), TypeRef::Table(ty))
                            if ty.element_type == wasmparser::RefType::FUNCREF && !ty.table64 =>
                        {
                            table = Some(ty)
                        }
                        (0, _, _) => {
                            return Err(Error::shape(format!(
                                "import 0 is {}.{}, expected the 32-bit memory env.memory (at stream offset {offset})",
                                import.module, import.name
                            )))
                        }
                        (1, _, _) => {
                            return Err(Error::shape(format!(
                                "import 1 is {}.{}, expected the funcref table env.__indirect_function_table (at stream offset {offset})",
                                import.module, import.name
                            )))
                        }
                        _ => {
                            return Err(Error::shape(format!(
                                "unexpected import {}.{}: a JIT module imports only env.memory and env.__indirect_function_table (at stream offset {offset})",
                                import.module, import.name
                            )))
                        }
                    }
                }
            }
            Payload::FunctionSection(reader) => {
                let count = reader.count();
                for (index, ty) in reader.into_iter().enumerate() {
                    let ty = ty.map_err(bad)?;
                    if ty != LABEL_TYPE {
                        return Err(Error::shape(format!(
                            "function {index} has type {ty}, label functions must have type {LABEL_TYPE}"
                        )));
                    }
                }
                num_functions = Some(count);
            }
            Payload::ExportSection(reader) => {
                for export in reader {
                    let export = export.map_err(bad)?;
                    let label = match (export.kind, label_of_export(export.name)) {
                        (ExternalKind::Func, Some(label)) if label == export.index => label,
                        _ => {
                            return Err(Error::shape(format!(
                                "unexpected export \"{}\" ({:?} {}): a JIT module exports only function i as \"f<i>\"",
                                export.name.escape_default(),
                                export.kind,
                                export.index
                            )))
                        }
                    };
                    let slot = label as usize;
                    if slot >= seen.len() {
                        if label >= num_entries {
                            return Err(Error::shape(format!(
                                "export \"f{label}\" is past num_entries {num_entries}"
                            )));
                        }
                        seen.resize(slot + 1, false);
                    }
                    if std::mem::replace(&mut seen[slot], true) {
                        return Err(Error::shape(format!("export \"f{label}\" appears twice")));
                    }
                    exported += 1;
                }
            }
            Payload::StartSection { func, range } => {
                return Err(Error::shape(format!(
                    "the module has a start function ({func}); a JIT module must not (at stream offset {})",
                    at(range.start)
                )))
            }
            Payload::ElementSection(reader) => {
                for element in reader {
                    let element = element.map_err(bad)?;
                    if let ElementKind::Active { .. } = element.kind {
                        return Err(Error::shape(format!(
                            "active element segment at stream offset {}: it would overwrite the VM's function table",
                            at(element.range.start)
                        )));
                    }
                }
            }
            Payload::DataSection(reader) => {
                for data in reader {
                    let data = data.map_err(bad)?;
                    if let DataKind::Active { .. } = data.kind {
                        return Err(Error::shape(format!(
                            "active data segment at stream offset {}: it would write into the VM's memory",
                            at(data.range.start)
                        )));
                    }
                }
            }
            Payload::MemorySection(reader) if reader.count() > 0 => {
                return Err(Error::shape(
                    "the module defines its own memory; it must use the imported env.memory",
                ))
            }
            Payload::CodeSectionStart { count, .. } => code_count = Some(count),
            _ => {}
        }
    }

    let (Some(memory), Some(table)) = (memory, table) else {
        return Err(Error::shape(
            "missing imports: a JIT module imports env.memory and env.__indirect_function_table",
        ));
    };
    let num_functions = num_functions.unwrap_or(0);
    if num_functions != num_entries {
        return Err(Error::shape(format!(
            "the module has {num_functions} functions but the stream says num_entries is {num_entries}"
        )));
    }
    if code_count.unwrap_or(0) != num_functions {
        return Err(Error::shape(format!(
            "the code section has {} bodies for {num_functions} functions",
            code_count.unwrap_or(0)
        )));
    }
    if !type_2_ok {
        return Err(Error::shape(
            "type 2 must be (i32, i32, i32) -> i32, the type of label functions",
        ));
    }
    if exported != num_entries {
        let missing = (0..num_entries)
            .find(|l| !seen.get(*l as usize).copied().unwrap_or(false))
            .unwrap_or(0);
        return Err(Error::shape(format!(
            "label function f{missing} is not exported ({exported} of {num_entries} exported)"
        )));
    }
    Ok(Shape {
        num_functions,
        memory,
        table,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_names() {
        assert_eq!(label_of_export("f0"), Some(0));
        assert_eq!(label_of_export("f953"), Some(953));
        assert_eq!(label_of_export("f"), None);
        assert_eq!(label_of_export("f01"), None);
        assert_eq!(label_of_export("g1"), None);
        assert_eq!(label_of_export("f1x"), None);
        assert_eq!(label_of_export("f+1"), None);
        assert_eq!(label_of_export("f99999999999"), None);
    }
}
