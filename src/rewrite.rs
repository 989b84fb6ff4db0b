//! Module rewriting: what the runtime changes in a JIT module before the
//! engine sees it. Sections and instructions it does not change are copied
//! byte for byte.
//!
//! 1. **Imports.** The memory import matches the program's memory (shared
//!    only in `-pthread` builds) with a minimum of 0 pages, so instantiation
//!    never fails over limits the module does not rely on.
//!
//! 2. **Tail-linked jumps** ([`Options::tail_calls`]). A jump to label L
//!    (`local.get 1; i32.const L+1; i32.store offset=4; local.get 0;
//!    return`, or the same ending the body) gets, in front of it,
//!
//!    ```text
//!    if jit_state->remaining_reductions != 0
//!       && jit_state->module == <module at function entry>:
//!        jit_state->continuation = 0
//!        return_call f_L(ctx, jit_state, p)
//!    ```
//!
//!    which is exactly what the dispatch loop (spec 6.2) would do next: the
//!    loop calls label L of the same module with continuation 0 unless
//!    reductions are 0 (then the original sequence runs and the loop stops).
//!    Functions that write locals 0-2 are left alone (the loop would see a
//!    different ctx).
//!
//! 3. **Direct primitives** ([`Options::direct_primitives`]). A primitive
//!    call `local.get 2; i32.load offset=N*4; call_indirect (type T)` becomes
//!    `call $p."N:S"`, a function import that the JS side binds at
//!    instantiation to entry N of AtomVM's `module_native_interface`
//!    (`return_call` when it was in tail position; S is T's index among the
//!    standard types). If an entry's type differs from T (a host whose
//!    interface is not AtomVM's), the JS side binds that import through the
//!    trampoline of type S instead, which traps only if it is called, as the
//!    `call_indirect` would have. Other `call_indirect`s (function pointers
//!    computed at run time) become calls of per-thread trampolines `ci.t<S>`
//!    that do the `call_indirect` (see [`trampoline_module`]). The module then
//!    no longer imports the table, which keeps `Table.set`/`grow` as fast with
//!    500 modules loaded as with one (V8 slows them down for every instance
//!    importing the table). A module that uses the table in any other way
//!    keeps its table import and its `call_indirect`s.

use crate::error::{Error, Result};
use crate::module::{self, Shape};
use crate::testgen::standard_types;
use wasm_encoder::{
    BlockType, Encode, EntityType, ExportKind, ExportSection, ImportSection, Instruction as I,
    MemArg, MemArgTarget, MemoryType, RawSection, RefType, TableType, TypeSection, ValType,
};
use wasmparser::{FuncType, FunctionBody, Operator, Payload};

/// How to rewrite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Whether the program's memory is shared (a `-pthread` build).
    pub shared_memory: bool,
    /// Link jumps with `return_call` (the engine supports tail calls).
    pub tail_calls: bool,
    /// Bind primitives as imports and drop the table import when possible.
    pub direct_primitives: bool,
}

impl Options {
    /// Only the import adaptation: the module as generated otherwise.
    pub const fn plain(shared_memory: bool) -> Options {
        Options {
            shared_memory,
            tail_calls: false,
            direct_primitives: false,
        }
    }
}

/// What a rewrite did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rewritten {
    pub wasm: Vec<u8>,
    /// The module imports no table (primitives are imports).
    pub detached: bool,
    /// Jumps given a `return_call` fast path.
    pub linked_jumps: u32,
    /// Primitive calls turned into calls of imports.
    pub direct_calls: u32,
    /// Computed `call_indirect`s sent through trampolines.
    pub trampolined_calls: u32,
}

/// The memory import as the program's memory will satisfy it.
fn memory_import(shared: bool) -> MemoryType {
    MemoryType {
        minimum: 0,
        // A shared memory import must declare a maximum; 65536 pages (4 GiB)
        // accepts every wasm32 memory.
        maximum: shared.then_some(65536),
        memory64: false,
        shared,
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

const fn mem(offset: u64) -> MemArg {
    MemArg {
        offset,
        align: 2,
        target: MemArgTarget::Memory(0),
        ordering: None,
    }
}

/// One change inside a function body, at module offsets `[start, end)`.
#[derive(Debug, Clone, Copy)]
enum Edit {
    /// Insert the `return_call` fast path for a jump to `label` at `start`.
    Jump { at: usize, label: u32 },
    /// Replace `[start, end)` (`local.get 2 .. call_indirect [return]`) with a
    /// call of primitive `index`'s import.
    Primitive {
        start: usize,
        end: usize,
        index: u32,
        ty: u32,
        tail: bool,
    },
    /// Replace the `call_indirect` at `[start, end)` with a trampoline call.
    Computed { start: usize, end: usize, ty: u32 },
    /// Renumber the `call`/`return_call` at `[start, end)`.
    Call {
        start: usize,
        end: usize,
        func: u32,
        tail: bool,
    },
}

impl Edit {
    fn start(&self) -> usize {
        match *self {
            Edit::Jump { at, .. } => at,
            Edit::Primitive { start, .. }
            | Edit::Computed { start, .. }
            | Edit::Call { start, .. } => start,
        }
    }
}

/// What the analysis of one body found.
struct BodyPlan<'a> {
    body: FunctionBody<'a>,
    edits: Vec<Edit>,
    /// Offset of the first instruction (after the locals).
    ops_start: usize,
    /// Number of locals including the 3 parameters.
    num_locals: u32,
    /// Whether a jump fast path is allowed (locals 0-2 never written).
    params_read_only: bool,
}

/// Offsets are u64 in wasmparser; a module is in memory, so they fit.
fn at(offset: u64) -> usize {
    usize::try_from(offset).unwrap_or(usize::MAX)
}

/// Recognises the sequences of spec section 4 in one body.
fn analyse(body: FunctionBody<'_>, num_functions: u32) -> wasmparser::Result<(BodyPlan<'_>, bool)> {
    let mut locals = body.get_locals_reader()?;
    let mut num_locals: u32 = 3;
    for _ in 0..locals.get_count() {
        let (count, _) = locals.read()?;
        num_locals = num_locals.saturating_add(count);
    }
    let mut ops = body.get_operators_reader()?;
    let ops_start = at(ops.original_position());
    let mut edits = Vec::new();
    let mut params_read_only = true;
    let mut uses_table_otherwise = false;
    // The last five operators with their start offsets, newest last.
    let mut window: [(Option<Operator<'_>>, usize); 5] = Default::default();
    while !ops.eof() {
        let (op, offset) = ops.read_with_offset()?;
        let offset = at(offset);
        let end = at(ops.original_position());
        match &op {
            Operator::LocalSet { local_index } | Operator::LocalTee { local_index }
                if *local_index <= 2 =>
            {
                params_read_only = false
            }
            Operator::Return | Operator::End if ops.eof() || matches!(op, Operator::Return) => {
                if let Some((label, start)) = jump_before(&window, num_functions) {
                    edits.push(Edit::Jump { at: start, label });
                }
                if matches!(op, Operator::Return) {
                    // `call_indirect; return` of a primitive: make it a tail call.
                    if let Some(Edit::Primitive { end: e, tail, .. }) = edits.last_mut() {
                        if *e == offset {
                            *e = end;
                            *tail = true;
                        }
                    }
                }
            }
            Operator::CallIndirect {
                type_index,
                table_index: 0,
            } => match (&window[3], &window[4]) {
                (
                    (Some(Operator::LocalGet { local_index: 2 }), start),
                    (Some(Operator::I32Load { memarg }), _),
                ) if memarg.target == wasmparser::MemArgTarget::Memory(0)
                    && memarg.offset % 4 == 0
                    && memarg.offset < 4096 =>
                {
                    edits.push(Edit::Primitive {
                        start: *start,
                        end,
                        index: (memarg.offset / 4) as u32,
                        ty: *type_index,
                        tail: false,
                    });
                }
                _ => edits.push(Edit::Computed {
                    start: offset,
                    end,
                    ty: *type_index,
                }),
            },
            Operator::Call { function_index } => edits.push(Edit::Call {
                start: offset,
                end,
                func: *function_index,
                tail: false,
            }),
            Operator::ReturnCall { function_index } => edits.push(Edit::Call {
                start: offset,
                end,
                func: *function_index,
                tail: true,
            }),
            Operator::CallIndirect { .. }
            | Operator::ReturnCallIndirect { .. }
            | Operator::TableGet { .. }
            | Operator::TableSet { .. }
            | Operator::TableSize { .. }
            | Operator::TableGrow { .. }
            | Operator::TableFill { .. }
            | Operator::TableCopy { .. }
            | Operator::TableInit { .. }
            | Operator::RefFunc { .. }
            | Operator::CallRef { .. }
            | Operator::ReturnCallRef { .. } => uses_table_otherwise = true,
            _ => {}
        }
        window.rotate_left(1);
        window[4] = (Some(op), offset);
    }
    ops.finish()?;
    Ok((
        BodyPlan {
            body,
            edits,
            ops_start,
            num_locals,
            params_read_only,
        },
        uses_table_otherwise,
    ))
}

/// If the last four operators are `local.get 1; i32.const L+1;
/// i32.store offset=4; local.get 0` with L a label, returns L and the offset
/// of the `local.get 1`.
fn jump_before(
    window: &[(Option<Operator<'_>>, usize); 5],
    num_functions: u32,
) -> Option<(u32, usize)> {
    match window {
        [_, (Some(Operator::LocalGet { local_index: 1 }), start), (Some(Operator::I32Const { value }), _), (Some(Operator::I32Store { memarg }), _), (Some(Operator::LocalGet { local_index: 0 }), _)]
            if memarg.target == wasmparser::MemArgTarget::Memory(0) && memarg.offset == 4 =>
        {
            let label = u32::try_from(*value).ok()?.checked_sub(1)?;
            (label < num_functions).then_some((label, *start))
        }
        _ => None,
    }
}

fn standard_index(ty: &FuncType) -> Option<u32> {
    let wanted = |t: &wasmparser::ValType| match t {
        wasmparser::ValType::I32 => Some(ValType::I32),
        wasmparser::ValType::I64 => Some(ValType::I64),
        _ => None,
    };
    let params: Option<Vec<ValType>> = ty.params().iter().map(wanted).collect();
    let results: Option<Vec<ValType>> = ty.results().iter().map(wanted).collect();
    let (params, results) = (params?, results?);
    standard_types()
        .iter()
        .position(|(p, r)| *p == params && *r == results)
        .map(|i| i as u32)
}

/// Rewrites a module that passed [`module::check`] (`shape` is its result).
/// `base` is the module's offset in the stream, for messages.
pub fn rewrite(wasm: &[u8], shape: &Shape, opts: Options, base: usize) -> Result<Rewritten> {
    let bad = |e: wasmparser::BinaryReaderError| Error::module(&e, base);
    let n = shape.num_functions;

    // Pass 1: collect the sections and analyse every body.
    let mut types: Vec<Option<FuncType>> = Vec::new();
    let mut type_section: Option<std::ops::Range<usize>> = None;
    let mut has_elements = false;
    let mut uses_table = false;
    let mut plans = Vec::new();
    for payload in module::parser().parse_all(wasm) {
        match payload.map_err(bad)? {
            Payload::TypeSection(reader) => {
                type_section = Some(at(reader.range().start)..at(reader.range().end));
                for group in reader {
                    for sub in group.map_err(bad)?.into_types() {
                        types.push(match sub.composite_type.inner {
                            wasmparser::CompositeInnerType::Func(f) => Some(f),
                            _ => None,
                        });
                    }
                }
            }
            Payload::ElementSection(_) => has_elements = true,
            Payload::CodeSectionEntry(body) => {
                let (plan, other) = analyse(body, n).map_err(bad)?;
                uses_table |= other;
                plans.push(plan);
            }
            _ => {}
        }
    }

    // A primitive in tail position becomes `return_call` only if it returns
    // what the function returns (i32); otherwise keep its `return`.
    for plan in &mut plans {
        for edit in &mut plan.edits {
            if let Edit::Primitive { ty, tail, end, .. } = edit {
                let returns_i32 = types
                    .get(*ty as usize)
                    .and_then(|t| t.as_ref())
                    .is_some_and(|t| t.results() == [wasmparser::ValType::I32]);
                if *tail && !returns_i32 {
                    *tail = false;
                    *end -= 1; // `return` is one byte
                }
            }
        }
    }

    // Decide whether the module can drop its table import.
    let mut primitives: Vec<(u32, u32)> = Vec::new(); // (interface index, type)
    let mut trampolines: Vec<u32> = Vec::new(); // standard type index
    let mut detached = opts.direct_primitives && !has_elements && !uses_table;
    if detached {
        'plans: for plan in &plans {
            for edit in &plan.edits {
                match *edit {
                    Edit::Primitive { index, ty, .. } => {
                        let standard = types
                            .get(ty as usize)
                            .and_then(|t| t.as_ref())
                            .and_then(standard_index);
                        if standard.is_none() {
                            detached = false; // no trampoline to fall back on
                            break 'plans;
                        }
                        match primitives.iter().find(|(i, _)| *i == index) {
                            Some((_, t)) if *t != ty => {
                                detached = false; // one entry called with two types
                                break 'plans;
                            }
                            Some(_) => {}
                            None => primitives.push((index, ty)),
                        }
                    }
                    Edit::Computed { ty, .. } => {
                        let std = types
                            .get(ty as usize)
                            .and_then(|t| t.as_ref())
                            .and_then(standard_index);
                        match std {
                            Some(s) if !trampolines.contains(&s) => trampolines.push(s),
                            Some(_) => {}
                            None => {
                                detached = false;
                                break 'plans;
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    if !detached {
        primitives.clear();
        trampolines.clear();
    }
    primitives.sort_unstable();
    trampolines.sort_unstable();
    let k = (primitives.len() + trampolines.len()) as u32; // imported functions
    let num_types = types.len() as u32;
    // Trampoline s has type (params of s, i32) -> results of s, appended.
    let trampoline_type =
        |s: u32| num_types + trampolines.iter().position(|t| *t == s).unwrap_or(0) as u32;
    let primitive_func = |index: u32| {
        primitives
            .iter()
            .position(|(i, _)| *i == index)
            .unwrap_or(0) as u32
    };
    let trampoline_func =
        |s: u32| (primitives.len() + trampolines.iter().position(|t| *t == s).unwrap_or(0)) as u32;

    // Pass 2: emit.
    let mut out = wasm_encoder::Module::new();
    let mut stats = Rewritten {
        detached,
        ..Rewritten::default()
    };
    let mut plans = plans.into_iter();
    for payload in module::parser().parse_all(wasm) {
        let payload = payload.map_err(bad)?;
        match &payload {
            Payload::TypeSection(_) if !trampolines.is_empty() => {
                let range = type_section.clone().unwrap_or(0..0);
                let data = extend_types(&wasm[range], &trampolines, base)?;
                out.section(&RawSection { id: 1, data: &data });
            }
            Payload::ImportSection(_) => {
                let mut imports = ImportSection::new();
                imports.import(
                    "env",
                    "memory",
                    EntityType::Memory(memory_import(opts.shared_memory)),
                );
                if detached {
                    for (index, ty) in &primitives {
                        // "N:S": entry N of the interface, of standard type S
                        // (for the JS side's fallback through trampolines).
                        let s = types
                            .get(*ty as usize)
                            .and_then(|t| t.as_ref())
                            .and_then(standard_index);
                        let name = format!("{index}:{}", s.unwrap_or(0));
                        imports.import("p", &name, EntityType::Function(*ty));
                    }
                    for s in &trampolines {
                        imports.import(
                            "ci",
                            &format!("t{s}"),
                            EntityType::Function(trampoline_type(*s)),
                        );
                    }
                } else {
                    imports.import(
                        "env",
                        "__indirect_function_table",
                        EntityType::Table(table_import()),
                    );
                }
                out.section(&imports);
            }
            Payload::ExportSection(_) if detached && k > 0 => {
                let mut exports = ExportSection::new();
                for i in 0..n {
                    exports.export(&format!("f{i}"), ExportKind::Func, i + k);
                }
                out.section(&exports);
            }
            Payload::CodeSectionStart { .. } => {
                let mut code = wasm_encoder::CodeSection::new();
                for plan in plans.by_ref() {
                    let body =
                        emit_body(wasm, &plan, k, opts, detached, &mut stats, &|e| match e {
                            Edit::Primitive { index, .. } => primitive_func(index),
                            Edit::Computed { ty, .. } => types
                                .get(ty as usize)
                                .and_then(|t| t.as_ref())
                                .and_then(standard_index)
                                .map_or(0, trampoline_func),
                            _ => 0,
                        })?;
                    code.raw(&body);
                }
                out.section(&code);
            }
            Payload::CustomSection(_) if detached && k > 0 => {} // names would be off by k
            Payload::CodeSectionEntry(_) => {}
            other => {
                if let Some((id, range)) = other.as_section() {
                    let data = wasm.get(at(range.start)..at(range.end)).ok_or_else(|| {
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
    stats.wasm = out.finish();
    Ok(stats)
}

/// The type section with, appended, the types of the trampolines used: the
/// original entries are copied as they are, after a new count.
fn extend_types(section: &[u8], trampolines: &[u32], base: usize) -> Result<Vec<u8>> {
    let mut reader = wasmparser::BinaryReader::new(section, 0);
    let count = reader.read_var_u32().map_err(|e| Error::module(&e, base))?;
    let entries = &section[reader.current_position()..];
    let mut data = Vec::with_capacity(section.len() + trampolines.len() * 12);
    (count + trampolines.len() as u32).encode(&mut data);
    data.extend_from_slice(entries);
    let standard = standard_types();
    for s in trampolines {
        let (params, results) = &standard[*s as usize];
        let mut params = params.clone();
        params.push(ValType::I32);
        data.push(0x60);
        params.encode(&mut data);
        results.encode(&mut data);
    }
    Ok(data)
}

/// Encodes one body with its edits applied.
fn emit_body(
    wasm: &[u8],
    plan: &BodyPlan<'_>,
    k: u32,
    opts: Options,
    detached: bool,
    stats: &mut Rewritten,
    import_of: &dyn Fn(Edit) -> u32,
) -> Result<Vec<u8>> {
    let body_range = at(plan.body.range().start)..at(plan.body.range().end);
    let link = opts.tail_calls && plan.params_read_only;
    let active = |e: &Edit| match e {
        Edit::Jump { .. } => link,
        Edit::Call { .. } => detached && k > 0,
        Edit::Primitive { .. } | Edit::Computed { .. } => detached,
    };
    let mut edits: Vec<Edit> = plan.edits.iter().copied().filter(active).collect();
    edits.sort_by_key(Edit::start);
    if edits.is_empty() {
        return Ok(wasm[body_range].to_vec());
    }
    let has_jumps = edits.iter().any(|e| matches!(e, Edit::Jump { .. }));
    let entry_module = plan.num_locals; // the new local, if jumps are linked
    let mut out = Vec::with_capacity(body_range.len() + edits.len() * 24);
    // Locals: the original declaration, plus one i32 for the entry module.
    let locals = &wasm[body_range.start..plan.ops_start];
    if has_jumps {
        let mut reader = wasmparser::BinaryReader::new(locals, 0);
        let groups = reader.read_var_u32().map_err(|e| Error::module(&e, 0))?;
        (groups + 1).encode(&mut out);
        out.extend_from_slice(&locals[reader.current_position()..]);
        1u32.encode(&mut out);
        ValType::I32.encode(&mut out);
        for i in [
            I::LocalGet(1),
            I::I32Load(mem(0)),
            I::LocalSet(entry_module),
        ] {
            i.encode(&mut out);
        }
    } else {
        out.extend_from_slice(locals);
    }
    let mut pos = plan.ops_start;
    for edit in edits {
        let start = edit.start();
        if start < pos {
            continue; // overlaps the previous edit: leave it as it was
        }
        out.extend_from_slice(&wasm[pos..start]);
        match edit {
            Edit::Jump { label, .. } => {
                stats.linked_jumps += 1;
                for i in [
                    I::LocalGet(1),
                    I::I32Load(mem(8)),
                    I::I32Const(0),
                    I::I32Ne,
                    I::LocalGet(1),
                    I::I32Load(mem(0)),
                    I::LocalGet(entry_module),
                    I::I32Eq,
                    I::I32And,
                    I::If(BlockType::Empty),
                    I::LocalGet(1),
                    I::I32Const(0),
                    I::I32Store(mem(4)),
                    I::LocalGet(0),
                    I::LocalGet(1),
                    I::LocalGet(2),
                    I::ReturnCall(label + k),
                    I::End,
                ] {
                    i.encode(&mut out);
                }
                pos = start;
            }
            Edit::Primitive { end, tail, .. } => {
                stats.direct_calls += 1;
                let func = import_of(edit);
                match (tail, opts.tail_calls) {
                    (true, true) => I::ReturnCall(func).encode(&mut out),
                    (true, false) => {
                        I::Call(func).encode(&mut out);
                        I::Return.encode(&mut out);
                    }
                    (false, _) => I::Call(func).encode(&mut out),
                }
                pos = end;
            }
            Edit::Computed { end, .. } => {
                stats.trampolined_calls += 1;
                I::Call(import_of(edit)).encode(&mut out);
                pos = end;
            }
            Edit::Call {
                end, func, tail, ..
            } => {
                if tail {
                    I::ReturnCall(func + k)
                } else {
                    I::Call(func + k)
                }
                .encode(&mut out);
                pos = end;
            }
        }
    }
    out.extend_from_slice(&wasm[pos..body_range.end]);
    Ok(out)
}

/// The per-thread trampoline module: imports the table and exports, for each
/// standard type S of spec section 4, `t<S>`: `(params of S, i32 index) ->
/// results of S`, which does `call_indirect (type S)` on its last argument.
pub fn trampoline_module() -> Vec<u8> {
    let standard = standard_types();
    let count = standard.len() as u32;
    let mut types = TypeSection::new();
    for (params, results) in &standard {
        types
            .ty()
            .function(params.iter().copied(), results.iter().copied());
    }
    for (params, results) in &standard {
        let mut p = params.clone();
        p.push(ValType::I32);
        types.ty().function(p, results.iter().copied());
    }
    let mut imports = ImportSection::new();
    imports.import(
        "env",
        "__indirect_function_table",
        EntityType::Table(table_import()),
    );
    let mut funcs = wasm_encoder::FunctionSection::new();
    let mut exports = ExportSection::new();
    let mut code = wasm_encoder::CodeSection::new();
    for (s, (params, _)) in standard.iter().enumerate() {
        let s = s as u32;
        funcs.function(count + s);
        exports.export(&format!("t{s}"), ExportKind::Func, s);
        let mut f = wasm_encoder::Function::new([]);
        for i in 0..=params.len() as u32 {
            f.instruction(&I::LocalGet(i));
        }
        f.instruction(&I::CallIndirect {
            type_index: s,
            table_index: 0,
        });
        f.instruction(&I::End);
        code.function(&f);
    }
    let mut module = wasm_encoder::Module::new();
    module
        .section(&types)
        .section(&imports)
        .section(&funcs)
        .section(&exports)
        .section(&code);
    module.finish()
}
