//! The limits the JavaScript engine puts on a module, beyond what the
//! WebAssembly specification requires. V8 (node 20, Chromium) refuses a
//! module that passes any of them; the values were read off node 20 with
//! modules built to sit exactly on each limit and one past it.
//!
//! The rewriter must never push a module that is within them over one (that
//! would make a valid stream load or not depending on the rewrite options):
//! it checks the sizes it is about to produce against these numbers and
//! leaves a function, or the module, as it was when one would be exceeded.
//! The native fake engine refuses modules over them, as V8 does, so that
//! tests and fuzzing see the engine's verdict.

/// Bytes in one function body (its size field: locals and code).
pub const MAX_FUNCTION_SIZE: usize = 7_654_321;
/// Locals of one function, parameters included.
pub const MAX_FUNCTION_LOCALS: u64 = 50_000;
/// Functions defined in a module (imported functions do not count).
pub const MAX_FUNCTIONS: u64 = 1_000_000;
/// Entries of the type section.
pub const MAX_TYPES: u64 = 1_000_000;
/// Imports of a module.
pub const MAX_IMPORTS: u64 = 100_000;
/// Exports of a module.
pub const MAX_EXPORTS: u64 = 100_000;
/// Bytes in a whole module.
pub const MAX_MODULE_SIZE: usize = 1 << 30;

/// The first limit `wasm` exceeds, as a message, or `None`. Only the counts
/// the rewriter can change, and the few wasmparser's validator does not
/// share with V8 (imports, exports), are checked here; the validator checks
/// function sizes and locals itself with the same numbers.
#[cfg(not(target_os = "emscripten"))]
pub fn exceeded(wasm: &[u8]) -> Option<String> {
    use wasmparser::Payload;
    if wasm.len() > MAX_MODULE_SIZE {
        return Some(format!(
            "module of {} bytes exceeds {MAX_MODULE_SIZE}",
            wasm.len()
        ));
    }
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        let (what, count, max) = match payload {
            Ok(Payload::TypeSection(r)) => ("types", r.count(), MAX_TYPES),
            Ok(Payload::ImportSection(r)) => ("imports", r.count(), MAX_IMPORTS),
            Ok(Payload::ExportSection(r)) => ("exports", r.count(), MAX_EXPORTS),
            Ok(Payload::FunctionSection(r)) => ("functions", r.count(), MAX_FUNCTIONS),
            Ok(_) => continue,
            Err(_) => return None, // malformed: the validator says why
        };
        if u64::from(count) > max {
            return Some(format!(
                "{what} count of {count} exceeds internal limit of {max}"
            ));
        }
    }
    None
}
