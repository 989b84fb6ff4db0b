//! Module rewriting: what the runtime changes in a JIT module before the
//! engine sees it. Sections it does not change are copied byte for byte.
//!
//! - Imports: the memory import is made to match the program's memory
//!   (shared only in `-pthread` builds) with a minimum of 0 pages, and the
//!   table import asks for no minimum and no maximum, so that instantiation
//!   never fails with a LinkError over limits the module does not rely on.

use crate::error::{Error, Result};
use crate::module::{self, Shape};
use wasm_encoder::{EntityType, ImportSection, MemoryType, RawSection, RefType, TableType};
use wasmparser::Payload;

/// How to rewrite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Whether the program's memory is shared (a `-pthread` build).
    pub shared_memory: bool,
}

impl Options {
    /// The options for the program this library is compiled into.
    pub const fn for_this_build() -> Options {
        Options {
            shared_memory: cfg!(target_feature = "atomics"),
        }
    }
}

/// The memory import as the program's memory will satisfy it.
fn memory_import(opts: Options) -> MemoryType {
    MemoryType {
        minimum: 0,
        // A shared memory import must declare a maximum; 65536 pages (4 GiB)
        // accepts every wasm32 memory.
        maximum: opts.shared_memory.then_some(65536),
        memory64: false,
        shared: opts.shared_memory,
        page_size_log2: None,
    }
}

fn table_import() -> TableType {
    TableType {
        element_type: RefType::FUNCREF,
        minimum: 0,
        maximum: None,
        table64: false,
        shared: false,
    }
}

/// Rewrites a module that passed [`module::check`] (`shape` is its result).
/// `base` is the module's offset in the stream, for messages.
pub fn rewrite(wasm: &[u8], _shape: &Shape, opts: Options, base: usize) -> Result<Vec<u8>> {
    let bad = |e: wasmparser::BinaryReaderError| Error::module(&e, base);
    let mut out = wasm_encoder::Module::new();
    for payload in module::parser().parse_all(wasm) {
        let payload = payload.map_err(bad)?;
        match &payload {
            Payload::ImportSection(_) => {
                let mut imports = ImportSection::new();
                imports.import("env", "memory", EntityType::Memory(memory_import(opts)));
                imports.import(
                    "env",
                    "__indirect_function_table",
                    EntityType::Table(table_import()),
                );
                out.section(&imports);
            }
            other => {
                if let Some((id, range)) = other.as_section() {
                    let data = usize::try_from(range.start)
                        .ok()
                        .zip(usize::try_from(range.end).ok())
                        .and_then(|(start, end)| wasm.get(start..end))
                        .ok_or_else(|| {
                            Error::stream(format!(
                                "section {id} at module offset {} runs past the module",
                                range.start
                            ))
                        })?;
                    out.section(&RawSection { id, data });
                }
            }
        }
    }
    Ok(out.finish())
}
