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
    ExportSectionReader, ExternalKind, FunctionSectionReader, Parser, Payload, WasmFeatures,
};

/// Type index of label functions.
pub const LABEL_TYPE: u32 = 2;

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

/// The payloads of a module, in order, without the code section's bodies:
/// its start is reported and the bodies are skipped, for the passes that
/// read only the other sections (walking a thousand bodies for nothing is
/// a hot loop V8 would optimise at every page load, `tiering.rs`). `base`
/// is the module's offset in the stream, for messages.
pub struct Sections<'a> {
    parser: Parser,
    rest: &'a [u8],
    base: usize,
    done: bool,
}

impl<'a> Sections<'a> {
    pub fn new(wasm: &'a [u8], base: usize) -> Sections<'a> {
        Sections {
            parser: parser(),
            rest: wasm,
            base,
            done: false,
        }
    }

    fn read(&mut self) -> Result<Payload<'a>> {
        let at = |p: &Parser| self.base.saturating_add(offset(p.offset()));
        let (payload, consumed) = match self.parser.parse(self.rest, true) {
            Ok(wasmparser::Chunk::Parsed { consumed, payload }) => (payload, consumed),
            // Not returned with `eof`; an error all the same.
            Ok(wasmparser::Chunk::NeedMoreData(_)) => {
                return Err(Error::module_text(
                    "the module ends early",
                    at(&self.parser),
                ))
            }
            Err(e) => return Err(Error::module(&e, self.base)),
        };
        self.rest = self.rest.get(consumed..).unwrap_or_default();
        match payload {
            Payload::CodeSectionStart { size, .. } => {
                let Some(rest) = self.rest.get(size as usize..) else {
                    return Err(Error::module_text(
                        "the code section extends past the end of the module",
                        at(&self.parser),
                    ));
                };
                self.parser.skip_section();
                self.rest = rest;
            }
            Payload::End(_) => self.done = true,
            _ => {}
        }
        Ok(payload)
    }
}

/// Each payload, then nothing after the module's end or the first error.
impl<'a> Iterator for Sections<'a> {
    type Item = Result<Payload<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let payload = self.read();
        self.done |= payload.is_err();
        Some(payload)
    }
}

/// What the check learned, for the rewriter. Borrows from the module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shape<'a> {
    /// Number of label functions (= `num_entries`).
    pub num_functions: u32,
    /// The module's function types, in order.
    pub types: Vec<FuncSig<'a>>,
    /// The imported memory's declared limits.
    pub memory: Limits,
    /// The imported table's declared limits.
    pub table: Limits,
    /// The code section's payload (its count, then the bodies), at module
    /// offsets; empty if the module has none.
    pub code: std::ops::Range<u64>,
    /// The module defines tables, globals or element segments of its own.
    pub defines_items: bool,
}

/// Declared limits of an imported memory or table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub initial: u64,
    pub maximum: Option<u64>,
    pub shared: bool,
}

/// Value type encodings JIT modules may use in function types.
pub const I32: u8 = 0x7F;
pub const I64: u8 = 0x7E;
const VALUE_TYPES: [u8; 6] = [I32, I64, 0x7D, 0x7C, 0x70, 0x6F];

/// A function type as its encoded value types (one byte each in a JIT
/// module), borrowed from the type section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FuncSig<'a> {
    pub params: &'a [u8],
    pub results: &'a [u8],
}

impl FuncSig<'_> {
    fn is_label_type(&self) -> bool {
        self.params == [I32; 3] && self.results == [I32]
    }
}

const fn sig(params: &'static [u8], results: &'static [u8]) -> FuncSig<'static> {
    FuncSig { params, results }
}

const I32_1: &[u8] = &[I32];
const I32_2: &[u8] = &[I32; 2];
const I32_3: &[u8] = &[I32; 3];
const I32_4: &[u8] = &[I32; 4];
const I32_5: &[u8] = &[I32; 5];
const I32_6: &[u8] = &[I32; 6];

/// The 13 types of spec section 4: 0..5 `(i32 × n) -> i32`, 6..11
/// `(i32 × n) -> ()` for n = 1..6, 12 `(i32, i64) -> i32`.
pub const STANDARD_TYPES: [FuncSig<'static>; 13] = [
    sig(I32_1, I32_1),
    sig(I32_2, I32_1),
    sig(I32_3, I32_1),
    sig(I32_4, I32_1),
    sig(I32_5, I32_1),
    sig(I32_6, I32_1),
    sig(I32_1, &[]),
    sig(I32_2, &[]),
    sig(I32_3, &[]),
    sig(I32_4, &[]),
    sig(I32_5, &[]),
    sig(I32_6, &[]),
    sig(&[I32, I64], I32_1),
];

/// The index among [`STANDARD_TYPES`] of a type equal to `sig`.
pub fn standard_index(sig: &FuncSig<'_>) -> Option<u32> {
    STANDARD_TYPES
        .iter()
        .position(|t| t == sig)
        .map(|i| i as u32)
}

/// A wasmparser offset as an index into the module (saturating: an offset
/// that does not fit is out of range anyway).
pub fn offset(at: u64) -> usize {
    usize::try_from(at).unwrap_or(usize::MAX)
}

/// A reader over one section, keeping offsets relative to the module.
fn section<'a>(
    wasm: &'a [u8],
    range: &std::ops::Range<u64>,
) -> Result<wasmparser::BinaryReader<'a>> {
    let data = wasm
        .get(offset(range.start)..offset(range.end))
        .ok_or_else(|| Error::shape("section out of range"))?;
    Ok(wasmparser::BinaryReader::new(data, range.start))
}

/// Reads the type section, which in a JIT module holds function types of
/// plain value types only (no GC types, no SIMD). The list is reserved
/// fallibly, sized by what the section can hold (a type takes 3 bytes at
/// least), never by the count the section claims.
pub fn read_types<'a>(
    wasm: &'a [u8],
    range: std::ops::Range<u64>,
    base: usize,
) -> Result<Vec<FuncSig<'a>>> {
    let bad = |e: wasmparser::BinaryReaderError| Error::module(&e, base);
    let mut r = section(wasm, &range)?;
    let count = r.read_var_u32().map_err(bad)?;
    let room = r.bytes_remaining() / 3;
    let mut types = crate::memory::try_vec((count as usize).min(room), "the type list")?;
    for index in 0..count {
        let form_at = base.saturating_add(offset(r.original_position()));
        if r.read_u8().map_err(bad)? != 0x60 {
            return Err(Error::shape(format!(
                "type {index} is not a plain function type (at stream offset {form_at})"
            )));
        }
        let mut lists: [&[u8]; 2] = [&[], &[]];
        for list in &mut lists {
            let n = r.read_var_u32().map_err(bad)?;
            let at = base.saturating_add(offset(r.original_position()));
            let bytes = r.read_bytes(n as usize).map_err(bad)?;
            if let Some(ty) = bytes.iter().find(|b| !VALUE_TYPES.contains(b)) {
                return Err(Error::shape(format!(
                    "type {index} uses value type {ty:#04x}, which JIT modules do not use (at stream offset {at})"
                )));
            }
            *list = bytes;
        }
        if types.len() == types.capacity() {
            return Err(Error::shape(
                "type section holds more types than its size allows",
            ));
        }
        types.push(FuncSig {
            params: lists[0],
            results: lists[1],
        });
    }
    if !r.eof() {
        return Err(Error::shape("type section has trailing bytes"));
    }
    Ok(types)
}

/// Reads limits: flags (bit 0 maximum, bit 1 shared, bit 2 64-bit), then the
/// minimum and the maximum if any.
fn read_limits(r: &mut wasmparser::BinaryReader<'_>) -> wasmparser::Result<Option<Limits>> {
    let flags = r.read_u8()?;
    if flags & !0b011 != 0 {
        return Ok(None);
    }
    let initial = u64::from(r.read_var_u32()?);
    let maximum = if flags & 1 != 0 {
        Some(u64::from(r.read_var_u32()?))
    } else {
        None
    };
    Ok(Some(Limits {
        initial,
        maximum,
        shared: flags & 2 != 0,
    }))
}

/// Reads the import section: exactly `env.memory` (a 32-bit memory) then
/// `env.__indirect_function_table` (a 32-bit funcref table).
fn read_imports(wasm: &[u8], range: std::ops::Range<u64>, base: usize) -> Result<(Limits, Limits)> {
    let bad = |e: wasmparser::BinaryReaderError| Error::module(&e, base);
    let mut r = section(wasm, &range)?;
    let count = r.read_var_u32().map_err(bad)?;
    let mut memory = None;
    let mut table = None;
    for position in 0..count {
        let offset = base.saturating_add(r.original_position() as usize);
        let module = r.read_string().map_err(bad)?;
        let name = r.read_string().map_err(bad)?;
        let kind = r.read_u8().map_err(bad)?;
        match (position, module, name, kind) {
            (0, "env", "memory", 0x02) => memory = read_limits(&mut r).map_err(bad)?,
            (1, "env", "__indirect_function_table", 0x01) if r.read_u8().map_err(bad)? == 0x70 => {
                table = read_limits(&mut r).map_err(bad)?
            }
            _ => {}
        }
        let expected = match position {
            0 if memory.is_some() => continue,
            1 if table.is_some() => continue,
            0 => "expected the 32-bit memory env.memory",
            1 => "expected the funcref table env.__indirect_function_table",
            _ => "a JIT module imports only env.memory and env.__indirect_function_table",
        };
        let what = if position < 2 {
            format!("import {position} is")
        } else {
            "unexpected import".into()
        };
        return Err(Error::shape(format!(
            "{what} {}.{}: {expected} (at stream offset {offset})",
            module.escape_default(),
            name.escape_default()
        )));
    }
    match (memory, table) {
        (Some(m), Some(t)) if r.eof() => Ok((m, t)),
        _ => Err(Error::shape(
            "missing imports: a JIT module imports env.memory and env.__indirect_function_table",
        )),
    }
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
pub fn check(wasm: &[u8], num_entries: u32, base: usize) -> Result<Shape<'_>> {
    let at = |at: u64| base.saturating_add(offset(at));

    let mut types = Vec::new();
    let mut type_2_ok = false;
    let mut memory = None;
    let mut table = None;
    let mut num_functions: Option<u32> = None;
    let mut code_count: Option<u32> = None;
    let mut exported = 0u32;
    let mut seen: Option<crate::memory::BitSet> = None;
    let mut code = 0..0;
    let mut defines_items = false;

    for payload in Sections::new(wasm, base) {
        match payload? {
            Payload::Version { encoding, .. } if encoding != wasmparser::Encoding::Module => {
                return Err(Error::shape("a component, not a core WebAssembly module"));
            }
            Payload::TypeSection(reader) => {
                types = read_types(wasm, reader.range(), base)?;
                type_2_ok = types.get(LABEL_TYPE as usize).is_some_and(FuncSig::is_label_type);
            }
            Payload::ImportSection(reader) => {
                let (m, t) = read_imports(wasm, reader.range(), base)?;
                memory = Some(m);
                table = Some(t);
            }
            Payload::FunctionSection(reader) => {
                let count = reader.count();
                if count != num_entries {
                    return Err(function_count(count, num_entries));
                }
                let types: fn(FunctionSectionReader<'_>, usize) -> Result<()> = function_types;
                crate::tiering::out_of_line(types)(reader, base)?;
                num_functions = Some(count);
            }
            Payload::ExportSection(reader) => {
                // The bitset of exported labels is bounded by the function
                // section already read (a byte per function at least).
                if num_functions != Some(num_entries) {
                    return Err(Error::shape(
                        "the export section comes before the function section",
                    ));
                }
                let seen = match &mut seen {
                    Some(s) => s,
                    None => seen.insert(crate::memory::BitSet::new(num_entries, "the export check")?),
                };
                let canonical: fn(&[u8], u32) -> bool = canonical_exports;
                let payload = wasm.get(offset(reader.range().start)..offset(reader.range().end));
                if payload.is_some_and(|p| crate::tiering::out_of_line(canonical)(p, num_entries)) {
                    // f0, f1, ... in order: what AtomVM's generator writes.
                    for label in 0..num_entries {
                        seen.insert(label);
                    }
                    exported += num_entries;
                } else {
                    let exports: ExportsFn = exports;
                    exported += crate::tiering::out_of_line(exports)(reader, seen, num_entries, base)?;
                }
            }
            Payload::StartSection { func, range } => {
                return Err(Error::shape(format!(
                    "the module has a start function ({func}); a JIT module must not (at stream offset {})",
                    at(range.start)
                )))
            }
            Payload::ElementSection(reader) if reader.count() > 0 => {
                return Err(Error::shape(format!(
                    "element segments at stream offset {}: a JIT module has none (an active one would overwrite the VM's function table)",
                    at(reader.range().start)
                )));
            }
            // An empty element section defines nothing, but the rewrites
            // that add one of their own leave such a module as it is.
            Payload::ElementSection(_) => defines_items = true,
            Payload::DataSection(reader) => check_data(wasm, reader.range(), base)?,
            Payload::MemorySection(reader) if reader.count() > 0 => {
                return Err(Error::shape(
                    "the module defines its own memory; it must use the imported env.memory",
                ))
            }
            Payload::CodeSectionStart {
                count,
                unchecked_range,
                ..
            } => {
                code_count = Some(count);
                code = unchecked_range;
            }
            Payload::TableSection(_) | Payload::GlobalSection(_) => defines_items = true,
            Payload::UnknownSection { id, range, .. } => {
                return Err(Error::module_text(
                    format!("unknown section id {id}"),
                    at(range.start),
                ))
            }
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
        return Err(function_count(num_functions, num_entries));
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
            .find(|l| !seen.as_ref().is_some_and(|s| s.contains(*l)))
            .unwrap_or(0);
        return Err(Error::shape(format!(
            "label function f{missing} is not exported ({exported} of {num_entries} exported)"
        )));
    }
    Ok(Shape {
        num_functions,
        types,
        memory,
        table,
        code,
        defines_items,
    })
}

/// Checks that every function has the label type. Its own function, out
/// of line: it loops over every function (`tiering.rs`).
fn function_types(reader: FunctionSectionReader<'_>, base: usize) -> Result<()> {
    for (index, ty) in reader.into_iter().enumerate() {
        let ty = ty.map_err(|e| Error::module(&e, base))?;
        if ty != LABEL_TYPE {
            return Err(Error::shape(format!(
                "function {index} has type {ty}, label functions must have type {LABEL_TYPE}"
            )));
        }
    }
    Ok(())
}

/// Encodes the export of function `i + k` as `f<i>` (the name's length,
/// the name, the kind, the index) into `out`; answers its length.
pub fn export_entry(i: u32, k: u32, out: &mut [u8; 18]) -> usize {
    let mut digits = [0u8; 10];
    let mut at = digits.len();
    let mut v = i;
    loop {
        at -= 1;
        digits[at] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    let name = &digits[at..];
    out[0] = 1 + name.len() as u8;
    out[1] = b'f';
    out[2..2 + name.len()].copy_from_slice(name);
    let at = 2 + name.len();
    out[at] = 0x00; // a function
    let mut index = [0u8; 5];
    let n = leb_u32(i.wrapping_add(k), &mut index);
    out[at + 1..at + 1 + n].copy_from_slice(&index[..n]);
    at + 1 + n
}

/// Encodes `v` as an unsigned LEB128 in the fewest bytes into `out`;
/// answers how many.
pub fn leb_u32(mut v: u32, out: &mut [u8; 5]) -> usize {
    let mut n = 0;
    loop {
        let low = (v & 0x7F) as u8;
        v >>= 7;
        out[n] = low | if v != 0 { 0x80 } else { 0 };
        n += 1;
        if v == 0 {
            return n;
        }
    }
}

/// Whether an export section's payload is exactly the exports of functions
/// 0..n as `f0`, `f1`, ... in order, each encoded in the fewest bytes: then
/// [`exports`] would accept them all, and a byte comparison says so faster
/// than reading names. Its own function, out of line (`tiering.rs`).
fn canonical_exports(payload: &[u8], n: u32) -> bool {
    let mut count = [0u8; 5];
    let count_len = leb_u32(n, &mut count);
    let mut rest = match payload.split_at_checked(count_len) {
        Some((c, rest)) if c == &count[..count_len] => rest,
        _ => return false,
    };
    let mut entry = [0u8; 18];
    for i in 0..n {
        let len = export_entry(i, 0, &mut entry);
        match rest.split_at_checked(len) {
            Some((e, r)) if e == &entry[..len] => rest = r,
            _ => return false,
        }
    }
    rest.is_empty()
}

type ExportsFn = fn(ExportSectionReader<'_>, &mut crate::memory::BitSet, u32, usize) -> Result<u32>;

/// Checks that each export is label function i as `f<i>`, i below
/// `num_entries`, once (`seen`); answers how many there are. Its own
/// function, out of line: it loops over every export (`tiering.rs`).
fn exports(
    reader: ExportSectionReader<'_>,
    seen: &mut crate::memory::BitSet,
    num_entries: u32,
    base: usize,
) -> Result<u32> {
    let mut exported = 0u32;
    for export in reader {
        let export = export.map_err(|e| Error::module(&e, base))?;
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
        if label >= num_entries {
            return Err(Error::shape(format!(
                "export \"f{label}\" is past num_entries {num_entries}"
            )));
        }
        if seen.insert(label) {
            return Err(Error::shape(format!("export \"f{label}\" appears twice")));
        }
        exported += 1;
    }
    Ok(exported)
}

#[cold]
fn function_count(count: u32, num_entries: u32) -> Error {
    Error::shape(format!(
        "the module has {count} functions but the stream says num_entries is {num_entries}"
    ))
}

/// Data segments must be passive (flags 1): an active one would write into
/// the VM's memory when the module is instantiated. Read by hand, which
/// needs no constant-expression parser: a passive segment has none.
fn check_data(wasm: &[u8], range: std::ops::Range<u64>, base: usize) -> Result<()> {
    let mut r = section(wasm, &range)?;
    let bad = |e: wasmparser::BinaryReaderError| Error::module(&e, base);
    let count = r.read_var_u32().map_err(bad)?;
    for _ in 0..count {
        let at = base.saturating_add(offset(r.original_position()));
        if r.read_var_u32().map_err(bad)? != 1 {
            return Err(Error::shape(format!(
                "active data segment at stream offset {at}: it would write into the VM's memory"
            )));
        }
        let len = r.read_var_u32().map_err(bad)?;
        r.read_bytes(len as usize).map_err(bad)?;
    }
    if !r.eof() {
        return Err(Error::shape("data section has trailing bytes"));
    }
    Ok(())
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

    /// The export section's payload as wasm-encoder writes it, for the
    /// functions `indices` named `f<i>` with `i` their position.
    fn exports_payload(indices: &[u32]) -> Vec<u8> {
        use wasm_encoder::Encode;
        let mut section = wasm_encoder::ExportSection::new();
        for (i, f) in indices.iter().enumerate() {
            section.export(&format!("f{i}"), wasm_encoder::ExportKind::Func, *f);
        }
        let mut sized = Vec::new();
        section.encode(&mut sized);
        // Drop the section's size: the payload follows it.
        let mut r = wasmparser::BinaryReader::new(&sized, 0);
        r.read_var_u32().unwrap();
        sized[r.current_position()..].to_vec()
    }

    #[test]
    fn export_entries_are_what_wasm_encoder_writes() {
        for i in [
            0,
            1,
            9,
            10,
            99,
            100,
            127,
            128,
            16_383,
            16_384,
            999_999,
            u32::MAX,
        ] {
            for k in [0, 1, 127, 300] {
                let mut entry = [0u8; 18];
                let len = export_entry(i, k, &mut entry);
                let mut expected = Vec::new();
                wasm_encoder::Encode::encode(format!("f{i}").as_str(), &mut expected);
                expected.push(0x00);
                wasm_encoder::Encode::encode(&i.wrapping_add(k), &mut expected);
                assert_eq!(&entry[..len], &expected[..], "f{i} of function {i} + {k}");
            }
        }
    }

    #[test]
    fn canonical_exports_are_only_f0_to_fn_in_order() {
        for n in [0u32, 1, 10, 127, 128, 1000] {
            let indices: Vec<u32> = (0..n).collect();
            assert!(
                canonical_exports(&exports_payload(&indices), n),
                "{n} in order"
            );
            assert!(
                !canonical_exports(&exports_payload(&indices), n + 1),
                "{n} of {}",
                n + 1
            );
            let mut trailing = exports_payload(&indices);
            trailing.push(0);
            assert!(!canonical_exports(&trailing, n), "{n} and a trailing byte");
        }
        // Another order, another index, one missing, a count in two bytes.
        let mut swapped = exports_payload(&[1, 0, 2]);
        assert!(!canonical_exports(&swapped, 3));
        swapped = exports_payload(&[0, 1, 3]);
        assert!(!canonical_exports(&swapped, 3));
        assert!(!canonical_exports(&exports_payload(&[0, 1]), 3));
        let mut long_count = vec![0x83, 0x00];
        long_count.extend_from_slice(&exports_payload(&[0, 1, 2])[1..]);
        assert!(!canonical_exports(&long_count, 3));
        assert!(canonical_exports(&exports_payload(&[0, 1, 2]), 3));
    }
}
