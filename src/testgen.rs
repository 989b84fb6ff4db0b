//! Test module generator: builds JIT streams whose modules have exactly the
//! shape of spec section 4 (imports, the 13-type section, `f<i>` exports,
//! locals, the jump sequence, primitive calls through the native interface by
//! `call_indirect`). Used by the Rust tests, the stream files of the C test
//! host, the fuzz seeds and the benchmarks.
//!
//! [`ModuleSpec`] has public fields so that a test can bend one part of an
//! otherwise well-formed module (an extra import, a wrong type, a start
//! function) and check the error that names it.

use crate::abi;
use wasm_encoder::{
    CodeSection, EntityType, ExportKind, ExportSection, Function, FunctionSection, ImportSection,
    Instruction as I, MemArg, MemoryType, Module, StartSection, TableType, TypeSection, ValType,
};

/// Indices into `ModuleNativeInterface` (spec section 2).
pub mod prim {
    pub const RAISE_ERROR: u32 = 0;
    pub const DO_RETURN: u32 = 1;
    pub const SCHEDULE_NEXT_CP: u32 = 2;
    pub const CALL_EXT: u32 = 4;
    /// Entry 70 (not AtomVM's): the test host uses it as
    /// `set_module(ctx, jit_state, module_index) -> ctx`.
    pub const TEST_SET_MODULE: u32 = 70;
    pub const GET_IMPORTED_BIF: u32 = 8;
    pub const GET_ATOM_TERM: u32 = 3;
    pub const TERMINATE_CONTEXT: u32 = 10;
}

/// Type indices of spec section 4: `(i32 × n) -> i32` is `n - 1`.
pub const fn ty_ret(n_params: u32) -> u32 {
    n_params - 1
}

/// One label function body, with helpers for the sequences generated code
/// uses. Locals: 0 ctx, 1 jit_state, 2 native interface, then 8 scratch i32.
pub struct Body {
    f: Function,
}

impl Default for Body {
    fn default() -> Self {
        Body::new()
    }
}

const fn mem(offset: u64) -> MemArg {
    MemArg {
        offset,
        align: 2,
        target: wasm_encoder::MemArgTarget::Memory(0),
        ordering: None,
    }
}

/// First scratch local.
pub const SCRATCH: u32 = 3;

impl Body {
    pub fn new() -> Body {
        Body::with_locals(3 + 8)
    }

    /// A body with `locals` i32 locals in all (parameters included, at
    /// least [`SCRATCH`] + 8).
    pub fn with_locals(locals: u32) -> Body {
        Body {
            f: Function::new([(locals - SCRATCH, ValType::I32)]),
        }
    }

    /// Appends one raw instruction.
    pub fn op(&mut self, i: I<'_>) -> &mut Self {
        self.f.instruction(&i);
        self
    }

    /// Appends raw instructions.
    pub fn ops(&mut self, ops: &[I<'_>]) -> &mut Self {
        for i in ops {
            self.f.instruction(i);
        }
        self
    }

    /// `local.get 1; i32.const L+1; i32.store offset=4; local.get 0; return`:
    /// the jump to label L of spec section 4.
    pub fn jump(&mut self, label: u32) -> &mut Self {
        self.store_continuation(label)
            .ops(&[I::LocalGet(0), I::Return])
    }

    /// The continuation store alone (`local.get 1; i32.const L+1; i32.store
    /// offset=4`), for the form that ends the body with `local.get 0`.
    pub fn store_continuation(&mut self, label: u32) -> &mut Self {
        self.ops(&[
            I::LocalGet(1),
            I::I32Const(label.wrapping_add(1) as i32),
            I::I32Store(mem(abi::JIT_STATE_CONTINUATION)),
        ])
    }

    /// Pushes x register `i`.
    pub fn load_x(&mut self, i: u32) -> &mut Self {
        self.ops(&[
            I::LocalGet(0),
            I::I32Load(mem(abi::CONTEXT_X + 4 * u64::from(i))),
        ])
    }

    /// Stores the result of `value` (instructions pushing one i32) in x[i].
    pub fn store_x(&mut self, i: u32, value: &[I<'_>]) -> &mut Self {
        self.op(I::LocalGet(0))
            .ops(value)
            .op(I::I32Store(mem(abi::CONTEXT_X + 4 * u64::from(i))))
    }

    /// `x[i] = x[i] + delta`.
    pub fn add_x(&mut self, i: u32, delta: i32) -> &mut Self {
        self.op(I::LocalGet(0))
            .load_x(i)
            .ops(&[I::I32Const(delta), I::I32Add])
            .op(I::I32Store(mem(abi::CONTEXT_X + 4 * u64::from(i))))
    }

    /// Calls primitive `index` whose arguments were pushed already, with
    /// type `ty`: `local.get 2; i32.load offset=N*4; call_indirect (type ty)`.
    pub fn call_primitive(&mut self, index: u32, ty: u32) -> &mut Self {
        self.ops(&[
            I::LocalGet(2),
            I::I32Load(mem(u64::from(index) * 4)),
            I::CallIndirect {
                type_index: ty,
                table_index: 0,
            },
        ])
    }

    /// Calls label function `func` with this function's parameters and
    /// drops the ctx it returns.
    pub fn call_label(&mut self, func: u32) -> &mut Self {
        self.ops(&[
            I::LocalGet(0),
            I::LocalGet(1),
            I::LocalGet(2),
            I::Call(func),
            I::Drop,
        ])
    }

    /// A primitive `(ctx, jit_state) -> ctx` in tail position
    /// (`call_indirect` then `return`).
    pub fn tail_primitive(&mut self, index: u32) -> &mut Self {
        self.ops(&[I::LocalGet(0), I::LocalGet(1)])
            .call_primitive(index, ty_ret(2))
            .op(I::Return)
    }

    /// `ctx->cp = (jit_state->module->module_index << 24) | ((label * 4) << 2)`.
    pub fn set_cp(&mut self, label: u32) -> &mut Self {
        self.ops(&[
            I::LocalGet(0),
            I::LocalGet(1),
            I::I32Load(mem(abi::JIT_STATE_MODULE)),
            I::I32Load(mem(0)), // Module.module_index
            I::I32Const(24),
            I::I32Shl,
            I::I32Const((label.wrapping_mul(16)) as i32),
            I::I32Or,
            I::I32Store(mem(abi::CONTEXT_CP)),
        ])
    }

    /// A return as AtomVM's generator writes it ([`inline_return`]), then
    /// `do_return` in tail position for a `cp` in another module.
    pub fn inline_return(&mut self) -> &mut Self {
        self.ops(&inline_return()).tail_primitive(prim::DO_RETURN)
    }

    /// `r = --jit_state->remaining_reductions; if r == 0 { yield at label }`
    /// where yielding stores the continuation and tail-calls
    /// `schedule_next_cp`, as AtomVM's generator does.
    pub fn decrement_reductions_or_yield(&mut self, resume_label: u32) -> &mut Self {
        self.ops(&[
            I::LocalGet(1),
            I::I32Load(mem(abi::JIT_STATE_REDUCTIONS)),
            I::I32Const(1),
            I::I32Sub,
            I::LocalSet(SCRATCH),
            I::LocalGet(1),
            I::LocalGet(SCRATCH),
            I::I32Store(mem(abi::JIT_STATE_REDUCTIONS)),
            I::LocalGet(SCRATCH),
            I::I32Eqz,
            I::If(wasm_encoder::BlockType::Empty),
        ])
        .store_continuation(resume_label)
        .tail_primitive(prim::SCHEDULE_NEXT_CP)
        .op(I::End)
    }

    /// `--jit_state->remaining_reductions` without yielding: the dispatch
    /// loop stops on its own when the count reaches 0 at the next jump.
    pub fn decrement_reductions(&mut self) -> &mut Self {
        self.ops(&[
            I::LocalGet(1),
            I::LocalGet(1),
            I::I32Load(mem(abi::JIT_STATE_REDUCTIONS)),
            I::I32Const(1),
            I::I32Sub,
            I::I32Store(mem(abi::JIT_STATE_REDUCTIONS)),
        ])
    }

    /// Ends the body returning ctx.
    pub fn finish(mut self) -> Function {
        self.f.instruction(&I::LocalGet(0));
        self.f.instruction(&I::End);
        self.f
    }
}

/// The generator's return within a module: if `ctx->cp` names the module
/// the loop runs, its label + 1 goes to the continuation and ctx is
/// returned to the loop; otherwise the code after it runs (the generator's
/// `do_return` in tail position).
pub fn inline_return() -> [I<'static>; 24] {
    [
        I::LocalGet(0),
        I::I32Load(mem(abi::CONTEXT_CP)),
        I::I32Const(24),
        I::I32ShrU,
        I::LocalGet(1),
        I::I32Load(mem(abi::JIT_STATE_MODULE)),
        I::I32Load(mem(0)), // Module.module_index
        I::I32Eq,
        I::If(wasm_encoder::BlockType::Empty),
        I::LocalGet(1),
        I::LocalGet(0),
        I::I32Load(mem(abi::CONTEXT_CP)),
        I::I32Const(0xFF_FFFF),
        I::I32And,
        I::I32Const(2),
        I::I32ShrU,
        I::I32Const(4),
        I::I32DivU,
        I::I32Const(1),
        I::I32Add,
        I::I32Store(mem(abi::JIT_STATE_CONTINUATION)),
        I::LocalGet(0),
        I::Return,
        I::End,
    ]
}

/// A stub label: `local.get 0; end`.
pub fn stub() -> Function {
    Body::new().finish()
}

/// Everything that goes into a generated module. [`ModuleSpec::standard`]
/// gives the shape of spec section 4; tests may change any field.
pub struct ModuleSpec {
    pub types: Vec<(Vec<ValType>, Vec<ValType>)>,
    pub imports: Vec<(String, String, EntityType)>,
    pub func_types: Vec<u32>,
    pub exports: Vec<(String, ExportKind, u32)>,
    pub start: Option<u32>,
    pub bodies: Vec<Function>,
    /// Immutable i32 globals the module defines (0: no global section).
    pub globals: u32,
}

/// The 13 types of spec section 4 (`module::STANDARD_TYPES`), as
/// wasm-encoder value types.
pub fn standard_types() -> Vec<(Vec<ValType>, Vec<ValType>)> {
    let valtype = |b: &u8| {
        if *b == crate::module::I64 {
            ValType::I64
        } else {
            ValType::I32
        }
    };
    crate::module::STANDARD_TYPES
        .iter()
        .map(|t| {
            (
                t.params.iter().map(valtype).collect(),
                t.results.iter().map(valtype).collect(),
            )
        })
        .collect()
}

/// The two imports of spec section 4 (shared memory 256..65536, table min 0).
pub fn standard_imports() -> Vec<(String, String, EntityType)> {
    vec![
        (
            "env".into(),
            "memory".into(),
            EntityType::Memory(MemoryType {
                minimum: 256,
                maximum: Some(65536),
                memory64: false,
                shared: true,
                page_size_log2: None,
            }),
        ),
        (
            "env".into(),
            "__indirect_function_table".into(),
            EntityType::Table(TableType {
                element_type: wasm_encoder::RefType::FUNCREF,
                minimum: 0,
                maximum: None,
                table64: false,
                shared: false,
            }),
        ),
    ]
}

impl ModuleSpec {
    /// A module of `bodies.len()` labels, of the shape of spec section 4.
    pub fn standard(bodies: Vec<Function>) -> ModuleSpec {
        let n = bodies.len() as u32;
        ModuleSpec {
            types: standard_types(),
            imports: standard_imports(),
            func_types: vec![2; bodies.len()],
            exports: (0..n)
                .map(|i| (format!("f{i}"), ExportKind::Func, i))
                .collect(),
            start: None,
            bodies,
            globals: 0,
        }
    }

    /// The encoded module.
    pub fn encode(&self) -> Vec<u8> {
        let mut module = Module::new();
        let mut types = TypeSection::new();
        for (params, results) in &self.types {
            types
                .ty()
                .function(params.iter().copied(), results.iter().copied());
        }
        module.section(&types);
        let mut imports = ImportSection::new();
        for (m, name, ty) in &self.imports {
            imports.import(m, name, *ty);
        }
        module.section(&imports);
        let mut funcs = FunctionSection::new();
        for ty in &self.func_types {
            funcs.function(*ty);
        }
        module.section(&funcs);
        if self.globals > 0 {
            let mut globals = wasm_encoder::GlobalSection::new();
            for i in 0..self.globals {
                let ty = wasm_encoder::GlobalType {
                    val_type: ValType::I32,
                    mutable: false,
                    shared: false,
                };
                globals.global(ty, &wasm_encoder::ConstExpr::i32_const(i as i32));
            }
            module.section(&globals);
        }
        let mut exports = ExportSection::new();
        for (name, kind, index) in &self.exports {
            exports.export(name, *kind, *index);
        }
        module.section(&exports);
        if let Some(func) = self.start {
            module.section(&StartSection {
                function_index: func,
            });
        }
        let mut code = CodeSection::new();
        for body in &self.bodies {
            code.function(body);
        }
        module.section(&code);
        module.finish()
    }
}

/// Wraps a module into a stream of format version 1, with a reserved area of
/// `reserved_words` × 4 zero bytes and the given line metadata.
pub fn stream(num_entries: u32, reserved_words: u32, wasm: &[u8], lines: &[u8]) -> Vec<u8> {
    let wasm_offset = 12 + reserved_words * 4;
    let lines_offset = wasm_offset + wasm.len() as u32;
    let mut out = Vec::with_capacity(lines_offset as usize + lines.len());
    out.extend_from_slice(&num_entries.to_le_bytes());
    out.extend_from_slice(&wasm_offset.to_le_bytes());
    out.extend_from_slice(&lines_offset.to_le_bytes());
    out.resize(wasm_offset as usize, 0);
    out.extend_from_slice(wasm);
    out.extend_from_slice(lines);
    out
}

/// Line metadata with `refs` line references and `conts` continuation labels.
pub fn lines(refs: &[(u16, u32)], conts: &[(u16, u16)]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&(refs.len() as u16).to_le_bytes());
    for (line, offset) in refs {
        out.extend_from_slice(&line.to_le_bytes());
        out.extend_from_slice(&offset.to_le_bytes());
    }
    out.extend_from_slice(&(conts.len() as u16).to_le_bytes());
    for (cont, beam) in conts {
        out.extend_from_slice(&cont.to_le_bytes());
        out.extend_from_slice(&beam.to_le_bytes());
    }
    out
}

/// A stream of `spec` with no reserved area beyond one word and a small
/// line table.
pub fn stream_of(spec: &ModuleSpec) -> Vec<u8> {
    let n = spec.bodies.len() as u32;
    stream(n, 1, &spec.encode(), &lines(&[(1, 0)], &[]))
}

// ---------------------------------------------------------------------------
// Programs used by the end-to-end tests and benchmarks. Each documents the
// contract with the host: which x registers it reads and writes.
// ---------------------------------------------------------------------------

/// Countdown: entry label 1 jumps to label 2 with the form that ends the body
/// with `local.get 0`. Each round of label 2 moves one unit from x[0]
/// to x[1] and spends one reduction; a plain jump continues the loop, so the
/// dispatch loop itself stops it when reductions run out. At x[0] == 0 it
/// jumps to label 3, which terminates the process.
pub fn countdown() -> ModuleSpec {
    let mut l1 = Body::new();
    l1.store_continuation(2);
    let mut l2 = Body::new();
    l2.load_x(0)
        .op(I::I32Eqz)
        .op(I::If(wasm_encoder::BlockType::Empty))
        .jump(3)
        .op(I::End)
        .add_x(0, -1)
        .add_x(1, 1)
        .decrement_reductions()
        .jump(2);
    let mut l3 = Body::new();
    l3.tail_primitive(prim::TERMINATE_CONTEXT);
    ModuleSpec::standard(vec![stub(), l1.finish(), l2.finish(), l3.finish()])
}

/// Call and return through `cp`: entry label 1 sets `cp` to label 4 and jumps
/// to label 5, which spends a reduction (yielding through `schedule_next_cp`
/// with continuation label 6 when they run out) and jumps to label 6, which
/// doubles x[0] and returns with `do_return`; label 4 sets x[1] = x[0] + 1
/// and terminates.
pub fn call_return() -> ModuleSpec {
    let mut l1 = Body::new();
    l1.set_cp(4).jump(5);
    let mut l4 = Body::new();
    l4.store_x(
        1,
        &[
            I::LocalGet(0),
            I::I32Load(mem(abi::CONTEXT_X)),
            I::I32Const(1),
            I::I32Add,
        ],
    )
    .tail_primitive(prim::TERMINATE_CONTEXT);
    let mut l5 = Body::new();
    l5.decrement_reductions_or_yield(6).jump(6);
    let mut l6 = Body::new();
    l6.store_x(
        0,
        &[
            I::LocalGet(0),
            I::I32Load(mem(abi::CONTEXT_X)),
            I::I32Const(2),
            I::I32Mul,
        ],
    )
    .tail_primitive(prim::DO_RETURN);
    ModuleSpec::standard(vec![
        stub(),
        l1.finish(),
        stub(),
        stub(),
        l4.finish(),
        l5.finish(),
        l6.finish(),
    ])
}

/// `call_ext(ctx, jit_state, module_index, label)` of the test host: pushes
/// the arguments and tail-calls primitive 4 with type `(i32 × 4) -> i32`.
fn call_ext(body: &mut Body, module_index: u32, label: u32) {
    body.ops(&[
        I::LocalGet(0),
        I::LocalGet(1),
        I::I32Const(module_index as i32),
        I::I32Const(label as i32),
    ])
    .call_primitive(prim::CALL_EXT, ty_ret(4))
    .op(I::Return);
}

/// Two modules calling each other. Module A (index `a`): label 1 sets `cp` to
/// A.3 and calls B.1; A.3 terminates; A.5 triples x[0] and returns through
/// `cp`. Module B (index `b`): B.1 adds 100 to x[0] and last-calls A.5.
/// Starting with x[0] = v, the process ends with x[0] = (v + 100) * 3.
pub fn ping_pong(a: u32, b: u32) -> (ModuleSpec, ModuleSpec) {
    let mut a1 = Body::new();
    a1.set_cp(3);
    call_ext(&mut a1, b, 1);
    let mut a3 = Body::new();
    a3.tail_primitive(prim::TERMINATE_CONTEXT);
    let mut a5 = Body::new();
    a5.store_x(
        0,
        &[
            I::LocalGet(0),
            I::I32Load(mem(abi::CONTEXT_X)),
            I::I32Const(3),
            I::I32Mul,
        ],
    )
    .tail_primitive(prim::DO_RETURN);
    let module_a = ModuleSpec::standard(vec![
        stub(),
        a1.finish(),
        stub(),
        a3.finish(),
        stub(),
        a5.finish(),
    ]);
    let mut b1 = Body::new();
    b1.add_x(0, 100);
    call_ext(&mut b1, a, 5);
    let module_b = ModuleSpec::standard(vec![stub(), b1.finish()]);
    (module_a, module_b)
}

/// A chain of `n` labels (n >= 2). Every label i in 1..n does
/// `if x[0] == 0 { terminate } x[0] -= 1; x[1] += 1; reductions -= 1;
/// jump(i + 1)`, wrapping from label n - 1 back to 1. Starting with
/// x[0] = k, it makes k jumps and ends with x[1] = k. Used for jump
/// benchmarks and for modules of many labels.
pub fn chain(n: u32) -> ModuleSpec {
    assert!(n >= 2, "a chain needs labels 0 and 1 at least");
    let mut bodies = vec![stub()];
    for i in 1..n {
        let next = if i + 1 == n { 1 } else { i + 1 };
        let mut b = Body::new();
        b.load_x(0)
            .op(I::I32Eqz)
            .op(I::If(wasm_encoder::BlockType::Empty))
            .tail_primitive(prim::TERMINATE_CONTEXT)
            .op(I::End)
            .add_x(0, -1)
            .add_x(1, 1)
            .decrement_reductions()
            .jump(next);
        bodies.push(b.finish());
    }
    ModuleSpec::standard(bodies)
}

/// A ring of `n` labels (n >= 2) that does nothing but jump: label i in 1..n
/// spends one reduction and jumps to label i + 1 (label n - 1 to label 1).
/// Run with r reductions, it makes exactly r jumps and the dispatch loop
/// stops it with continuation set: the cost of a jump, isolated.
pub fn jump_ring(n: u32) -> ModuleSpec {
    assert!(n >= 2, "a ring needs labels 0 and 1 at least");
    let mut bodies = vec![stub()];
    for i in 1..n {
        let next = if i + 1 == n { 1 } else { i + 1 };
        let mut b = Body::new();
        b.decrement_reductions().jump(next);
        bodies.push(b.finish());
    }
    ModuleSpec::standard(bodies)
}

/// A module that says which it is: `n` labels (n >= 3); label 1 jumps to
/// label n - 1, which sets x[0] = `marker` and terminates. Used by the
/// stress test to check that a lookup reached the module it asked for.
pub fn marker(marker: u32, n: u32) -> ModuleSpec {
    assert!(n >= 3, "a marker module has labels 0, 1 and n - 1");
    let mut bodies: Vec<Function> = (0..n).map(|_| stub()).collect();
    let mut l1 = Body::new();
    l1.jump(n - 1);
    bodies[1] = l1.finish();
    let mut last = Body::new();
    last.store_x(0, &[I::I32Const(marker as i32)])
        .tail_primitive(prim::TERMINATE_CONTEXT);
    bodies[n as usize - 1] = last.finish();
    ModuleSpec::standard(bodies)
}

/// A module that validates but traps: label 1 is `unreachable`.
pub fn trapping() -> ModuleSpec {
    let mut l1 = Body::new();
    l1.op(I::Unreachable);
    ModuleSpec::standard(vec![stub(), l1.finish()])
}

/// A module switch right before a plain jump. Module A (`switch_a(b)`):
/// label 1 calls the host's `set_module(b)` (not in tail position) and then
/// jumps to label 2; the dispatch loop therefore continues at label 2 of
/// module b, which sets x[0] = 2 (`switch_b`); A's own label 2 would set
/// x[0] = 1. A tail-linked jump must not take the shortcut here.
pub fn switch_a(b: u32) -> ModuleSpec {
    let mut l1 = Body::new();
    l1.ops(&[I::LocalGet(0), I::LocalGet(1), I::I32Const(b as i32)])
        .call_primitive(prim::TEST_SET_MODULE, ty_ret(3))
        .op(I::Drop)
        .jump(2);
    let mut l2 = Body::new();
    l2.store_x(0, &[I::I32Const(1)])
        .tail_primitive(prim::TERMINATE_CONTEXT);
    ModuleSpec::standard(vec![stub(), l1.finish(), l2.finish()])
}

/// Module B of [`switch_a`]: label 2 sets x[0] = 2 and terminates.
pub fn switch_b() -> ModuleSpec {
    let mut l2 = Body::new();
    l2.store_x(0, &[I::I32Const(2)])
        .tail_primitive(prim::TERMINATE_CONTEXT);
    ModuleSpec::standard(vec![stub(), stub(), l2.finish()])
}

// ---------------------------------------------------------------------------
// Programs for the regressions of issue 9: each is valid and of the spec's
// shape, and each once made a rewrite change what it does, or made a load
// fail or abort.
// ---------------------------------------------------------------------------

/// Valid but jump-dense: `functions` labels after label 0, each a run of
/// `jumps` jump sequences (all but the first unreachable). Each jump grows
/// by ~35 bytes when linked, so the rewritten module is ~4.5 times the
/// stream: a load must reserve that exactly and fail cleanly if it cannot.
pub fn jump_dense(functions: u32, jumps: u32) -> ModuleSpec {
    let mut bodies = vec![stub()];
    for i in 1..=functions {
        let mut b = Body::new();
        for k in 0..jumps {
            b.jump(1 + (i + k) % functions);
        }
        bodies.push(b.finish());
    }
    ModuleSpec::standard(bodies)
}

/// Label 1 has `locals` i32 locals in all (parameters included) and a jump
/// to label 2, which terminates. At V8's limit of 50,000 the jump fast path
/// (one more local) must not be added.
pub fn many_locals(locals: u32) -> ModuleSpec {
    let mut l1 = Function::new([(locals - 3, ValType::I32)]);
    for i in [
        I::LocalGet(1),
        I::I32Const(3),
        I::I32Store(mem(abi::JIT_STATE_CONTINUATION)),
        I::LocalGet(0),
        I::End,
    ] {
        l1.instruction(&i);
    }
    let mut l2 = Body::new();
    l2.store_x(1, &[I::I32Const(2)])
        .tail_primitive(prim::TERMINATE_CONTEXT);
    ModuleSpec::standard(vec![stub(), l1, l2.finish()])
}

/// Label 1 is one body of about `bytes` bytes of jumps (the first to label
/// 2, which terminates; the rest unreachable). Linked, it would pass V8's
/// maximum function size.
pub fn big_body(bytes: u32) -> ModuleSpec {
    let mut l1 = Body::new();
    l1.jump(2);
    for _ in 1..bytes / 10 {
        l1.jump(1);
    }
    let mut l2 = Body::new();
    l2.store_x(1, &[I::I32Const(2)])
        .tail_primitive(prim::TERMINATE_CONTEXT);
    ModuleSpec::standard(vec![stub(), l1.finish(), l2.finish()])
}

/// Label 1 sets local 2 to the interface whose address is in x[2], then
/// calls its entry 10 (terminate_context) in tail position. A rewrite that
/// binds the call to the real interface's entry 10 runs the wrong function.
pub fn local2_written() -> ModuleSpec {
    let mut l1 = Body::new();
    l1.ops(&[
        I::LocalGet(0),
        I::I32Load(mem(abi::CONTEXT_X + 8)),
        I::LocalSet(2),
    ])
    .tail_primitive(prim::TERMINATE_CONTEXT);
    ModuleSpec::standard(vec![stub(), l1.finish()])
}

/// Label 1 calls entry 80, past the interface's 77, if x[0] == 12345 (the
/// tests never set it), then terminates. The words past the interface are
/// not the interface's: nothing may read or bind them before the call runs.
pub fn past_interface() -> ModuleSpec {
    let mut l1 = Body::new();
    l1.load_x(0)
        .ops(&[
            I::I32Const(12345),
            I::I32Eq,
            I::If(wasm_encoder::BlockType::Empty),
        ])
        .tail_primitive(80)
        .op(I::End)
        .store_x(1, &[I::I32Const(3)])
        .tail_primitive(prim::TERMINATE_CONTEXT);
    ModuleSpec::standard(vec![stub(), l1.finish()])
}

/// Label 1 `call`s label 2, which jumps to label 4; then label 1 sets
/// x[1] = 0 and returns to the loop, which continues at label 4: x[1] += 99
/// and terminate. Ends with x[1] = 99. Were label 2's jump linked, label 4
/// would run inside label 1's call and the process would end with x[1] = 0.
pub fn called_jump() -> ModuleSpec {
    let mut l1 = Body::new();
    l1.call_label(2).store_x(1, &[I::I32Const(0)]);
    let mut l2 = Body::new();
    l2.jump(4);
    let mut l4 = Body::new();
    l4.add_x(1, 99).tail_primitive(prim::TERMINATE_CONTEXT);
    ModuleSpec::standard(vec![stub(), l1.finish(), l2.finish(), stub(), l4.finish()])
}

/// How [`bif_call`] asks for its BIF's function pointer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BifForm {
    /// As AtomVM's generator does: `local.get 1; i32.const 2`, entry 8.
    Generated,
    /// The index from a local instead of a constant.
    IndexInLocal,
    /// Entry 8 with a type of three arguments (jit_state, 2, 0).
    OtherType,
    /// Label 1 writes local 2 (with its own value) first.
    WritesLocal2,
    /// Label 1 `call`s label 2, which asks for the pointer and calls it.
    Called,
}

/// A call of interface entry `entry` with `local.get first; i32.const
/// value` as AtomVM's generator writes it, in type `ty` (`(i32, i32) ->
/// ...`), or in `form`'s way not to: the constant from a local
/// (`IndexInLocal`), a third argument 0 and the type one index up
/// (`OtherType`). The other forms change the function around the call.
fn entry_call(form: BifForm, first: u32, value: i32, entry: u32, ty: u32) -> Vec<I<'static>> {
    let mut call = match form {
        BifForm::IndexInLocal => vec![
            I::I32Const(value),
            I::LocalSet(4),
            I::LocalGet(first),
            I::LocalGet(4),
        ],
        _ => vec![I::LocalGet(first), I::I32Const(value)],
    };
    let ty = if form == BifForm::OtherType {
        call.push(I::I32Const(0));
        ty + 1
    } else {
        ty
    };
    call.extend([
        I::LocalGet(2),
        I::I32Load(mem(u64::from(entry) * 4)),
        I::CallIndirect {
            type_index: ty,
            table_index: 0,
        },
    ]);
    call
}

/// Import 2 of the module is a BIF `(ctx) -> term`: label 1 asks
/// `get_imported_bif` (interface entry 8) for its function pointer, calls
/// it with ctx, stores the result in x[1], and terminates. The
/// [`BifForm`]s other than `Generated` are each one condition under which
/// the call must stay a call.
pub fn bif_call(form: BifForm) -> ModuleSpec {
    // Pushes the BIF's result.
    let mut ask = entry_call(form, 1, 2, prim::GET_IMPORTED_BIF, ty_ret(2));
    ask.extend([
        I::LocalSet(3),
        I::LocalGet(0),
        I::LocalGet(3),
        I::CallIndirect {
            type_index: ty_ret(1),
            table_index: 0,
        },
    ]);
    stores_in_x1(form, &ask)
}

/// Label 1 stores what `ask` pushes in x[1] and terminates; in `form`'s
/// way: after writing local 2 (`WritesLocal2`), or with `ask` in label 2,
/// which label 1 `call`s (`Called`).
fn stores_in_x1(form: BifForm, ask: &[I<'static>]) -> ModuleSpec {
    let mut l1 = Body::new();
    if form == BifForm::WritesLocal2 {
        l1.ops(&[I::LocalGet(2), I::LocalSet(2)]);
    }
    if form == BifForm::Called {
        l1.ops(&[I::LocalGet(0), I::LocalGet(1), I::LocalGet(2), I::Call(2)])
            .ops(&[I::LocalSet(3)])
            .store_x(1, &[I::LocalGet(3)])
            .tail_primitive(prim::TERMINATE_CONTEXT);
        let mut l2 = Body::new();
        l2.ops(ask).op(I::Return);
        return ModuleSpec::standard(vec![stub(), l1.finish(), l2.finish()]);
    }
    l1.store_x(1, ask).tail_primitive(prim::TERMINATE_CONTEXT);
    ModuleSpec::standard(vec![stub(), l1.finish()])
}

/// Label 1 asks `module_get_atom_term_by_id` (interface entry 3) for the
/// term of the module's atom 2, stores it in x[1], and terminates. The
/// [`BifForm`]s other than `Generated` are each one condition under which
/// the call must stay a call.
pub fn atom_call(form: BifForm) -> ModuleSpec {
    let ask = entry_call(form, 1, 2, prim::GET_ATOM_TERM, ty_ret(2));
    stores_in_x1(form, &ask)
}

/// Label 1 calls each function pointer of `pointers` as a GC BIF of two
/// arguments, `(ctx, 0, 0, a, b) -> term` (standard type 4, through
/// `call_indirect`, as AtomVM's generator calls a BIF), on every pair of
/// `values`, storing the results at `at`, `at + 4`, ..., then terminates.
pub fn small_int_calls(pointers: &[u32], values: &[u32], at: u32) -> ModuleSpec {
    let mut l1 = Body::new();
    let mut addr = at;
    for &p in pointers {
        for &a in values {
            for &b in values {
                l1.ops(&[
                    I::I32Const(addr as i32),
                    I::LocalGet(0),
                    I::I32Const(0),
                    I::I32Const(0),
                    I::I32Const(a as i32),
                    I::I32Const(b as i32),
                    I::I32Const(p as i32),
                    I::CallIndirect {
                        type_index: ty_ret(5),
                        table_index: 0,
                    },
                    I::I32Store(mem(0)),
                ]);
                addr = addr.wrapping_add(4);
            }
        }
    }
    l1.tail_primitive(prim::TERMINATE_CONTEXT);
    ModuleSpec::standard(vec![stub(), l1.finish()])
}

/// Label 1 calls function pointer `pointer` as a BIF of two arguments,
/// `(ctx, 0, key, map) -> term` (standard type 3, through `call_indirect`,
/// as AtomVM's generator calls `erlang:map_get/2`), for each pair of
/// `lookups`, storing the results at `at`, `at + 4`, ..., then
/// terminates.
pub fn map_get_calls(pointer: u32, lookups: &[(u32, u32)], at: u32) -> ModuleSpec {
    let mut l1 = Body::new();
    for (i, &(map, key)) in lookups.iter().enumerate() {
        l1.ops(&[
            I::I32Const((at as usize + 4 * i) as i32),
            I::LocalGet(0),
            I::I32Const(0),
            I::I32Const(key as i32),
            I::I32Const(map as i32),
            I::I32Const(pointer as i32),
            I::CallIndirect {
                type_index: ty_ret(4),
                table_index: 0,
            },
            I::I32Store(mem(0)),
        ]);
    }
    l1.tail_primitive(prim::TERMINATE_CONTEXT);
    ModuleSpec::standard(vec![stub(), l1.finish()])
}

/// Label 1 calls `trim_live_regs` (interface entry 7, `(ctx, live) ->
/// ()`) as AtomVM's generator does, `local.get 0; i32.const 3`, then sets
/// x[1] = 5 and terminates. The [`BifForm`]s other than `Generated` are the
/// same conditions as for a BIF call (the live count from a local; entry 7
/// with a type of three arguments; local 2 written; the call in a function
/// that label 1 `call`s), under each of which the call must stay as it is.
pub fn trim_call(form: BifForm) -> ModuleSpec {
    let call = entry_call(form, 0, 3, 7, 7);
    let x1 = mem(abi::CONTEXT_X + 4);
    // x[1] += 5, in label 1 whatever the form
    let add_x1 = [
        I::LocalGet(0),
        I::LocalGet(0),
        I::I32Load(x1),
        I::I32Const(5),
        I::I32Add,
        I::I32Store(x1),
    ];
    terminating_with(form, &call, &add_x1)
}

/// Import 3 of the module is a GC BIF of two arguments: label 1 asks
/// `get_imported_bif` for it and calls it as AtomVM's generator does,
/// `(ctx, 0, 2, x[0], x[1])` with standard type 4, stores the result in
/// x[1], and terminates.
pub fn bif2_call() -> ModuleSpec {
    let mut l1 = Body::new();
    l1.ops(&[I::LocalGet(1), I::I32Const(3), I::LocalGet(2)])
        .ops(&[
            I::I32Load(mem(u64::from(prim::GET_IMPORTED_BIF) * 4)),
            I::CallIndirect {
                type_index: ty_ret(2),
                table_index: 0,
            },
            I::LocalSet(3),
        ])
        .store_x(
            1,
            &[
                I::LocalGet(0),
                I::I32Const(0),
                I::I32Const(2),
                I::LocalGet(0),
                I::I32Load(mem(abi::CONTEXT_X)),
                I::LocalGet(0),
                I::I32Load(mem(abi::CONTEXT_X + 4)),
                I::LocalGet(3),
                I::CallIndirect {
                    type_index: ty_ret(5),
                    table_index: 0,
                },
            ],
        )
        .tail_primitive(prim::TERMINATE_CONTEXT);
    ModuleSpec::standard(vec![stub(), l1.finish()])
}

/// Interface entry 11, AtomVM's `term_compare`.
pub const TERM_COMPARE: u32 = 11;

/// `term_compare(ctx, jit_state, a, b, opts)` as AtomVM's generator calls
/// it (entry 11, standard type 4), with its arguments pushed by `a`, `b`
/// and `opts` (see [`interface_call`] for `form`).
fn compare_call(form: BifForm, a: &[I<'static>], b: &[I<'static>], opts: i32) -> Vec<I<'static>> {
    let mut args = a.to_vec();
    args.extend_from_slice(b);
    args.push(I::I32Const(opts));
    interface_call(form, TERM_COMPARE, args, 3)
}

/// A call of interface entry `entry` with `(ctx, jit_state)` then `args`
/// (instructions pushing `values` i32s), of standard type `(i32 × (2 +
/// values)) -> i32`, as AtomVM's generator calls `term_compare`,
/// `allocate` and `deallocate`. `OtherType` adds an argument 0 (and the
/// type with it); the other [`BifForm`]s change the function around the
/// call.
fn interface_call(
    form: BifForm,
    entry: u32,
    mut args: Vec<I<'static>>,
    values: u32,
) -> Vec<I<'static>> {
    let mut call = vec![I::LocalGet(0), I::LocalGet(1)];
    call.append(&mut args);
    call_entry(form, entry, call, 2 + values)
}

/// `call` (its `params` arguments pushed), then the call of interface
/// entry `entry` returning a value; with `OtherType`, a further argument 0
/// and the type one index up.
fn call_entry(
    form: BifForm,
    entry: u32,
    mut call: Vec<I<'static>>,
    params: u32,
) -> Vec<I<'static>> {
    let mut params = params;
    if form == BifForm::OtherType {
        call.push(I::I32Const(0));
        params += 1;
    }
    call.extend([
        I::LocalGet(2),
        I::I32Load(mem(u64::from(entry) * 4)),
        I::CallIndirect {
            type_index: ty_ret(params),
            table_index: 0,
        },
    ]);
    call
}

/// Stores `value` (pushed by the instructions given) in x[i].
fn x_store(i: u64, value: Vec<I<'static>>) -> Vec<I<'static>> {
    let mut v = vec![I::LocalGet(0)];
    v.extend(value);
    v.push(I::I32Store(mem(abi::CONTEXT_X + 4 * i)));
    v
}

/// Label 1 runs `calls`, then `after`, then terminates; in `form`'s way:
/// after writing local 2 (`WritesLocal2`), or with `calls` in label 2,
/// which label 1 `call`s (`Called`).
fn terminating_with(form: BifForm, calls: &[I<'static>], after: &[I<'static>]) -> ModuleSpec {
    let mut l1 = Body::new();
    if form == BifForm::WritesLocal2 {
        l1.ops(&[I::LocalGet(2), I::LocalSet(2)]);
    }
    if form == BifForm::Called {
        l1.call_label(2);
    } else {
        l1.ops(calls);
    }
    l1.ops(after).tail_primitive(prim::TERMINATE_CONTEXT);
    let mut bodies = vec![stub(), l1.finish()];
    if form == BifForm::Called {
        let mut l2 = Body::new();
        l2.ops(calls).ops(&[I::LocalGet(0), I::Return]);
        bodies.push(l2.finish());
    }
    ModuleSpec::standard(bodies)
}

/// Label 1 makes the `term_compare` calls `(t, other, opts)` of
/// `compares` in order, storing the answers at `at`, `at + 4`, ..., then
/// terminates; in `form`'s way (see [`BifForm`]: `WritesLocal2`, `Called`
/// and `OtherType` are conditions under which the calls must stay calls).
pub fn compare_calls(form: BifForm, compares: &[(u32, u32, i32)], at: u32) -> ModuleSpec {
    let mut calls = Vec::new();
    for (i, &(a, b, opts)) in compares.iter().enumerate() {
        calls.push(I::I32Const((at as usize + 4 * i) as i32));
        calls.extend(compare_call(
            form,
            &[I::I32Const(a as i32)],
            &[I::I32Const(b as i32)],
            opts,
        ));
        calls.push(I::I32Store(mem(0)));
    }
    terminating_with(form, &calls, &[])
}

/// Interface entry 49, AtomVM's `term_find_map_pos`.
pub const TERM_FIND_MAP_POS: u32 = 49;

/// Label 1 makes the `term_find_map_pos(ctx, map, key)` calls of `lookups`
/// in order (entry 49, standard type 2, as AtomVM's generator calls it),
/// storing the answers at `at`, `at + 4`, ..., then terminates; in
/// `form`'s way (see [`BifForm`]: `WritesLocal2`, `Called` and `OtherType`
/// are conditions under which the calls must stay calls).
pub fn map_lookups(form: BifForm, lookups: &[(u32, u32)], at: u32) -> ModuleSpec {
    let mut calls = Vec::new();
    for (i, &(map, key)) in lookups.iter().enumerate() {
        calls.push(I::I32Const((at as usize + 4 * i) as i32));
        let args = vec![
            I::LocalGet(0),
            I::I32Const(map as i32),
            I::I32Const(key as i32),
        ];
        calls.extend(call_entry(form, TERM_FIND_MAP_POS, args, 3));
        calls.push(I::I32Store(mem(0)));
    }
    terminating_with(form, &calls, &[])
}

/// Interface entry 63, AtomVM's `jit_put_map_assoc`.
pub const PUT_MAP_ASSOC: u32 = 63;

/// One `jit_put_map_assoc(ctx, jit_state, map, new_entries, pairs, kv)`
/// call of [`map_updates`], with the pair `(key, value)` written at `kv`
/// first, and the heap's top moved to `top` first if given.
#[derive(Debug, Clone, Copy)]
pub struct MapUpdate {
    pub map: u32,
    pub key: u32,
    pub value: u32,
    pub new_entries: u32,
    pub pairs: u32,
    pub kv: u32,
    pub top: Option<u32>,
}

/// Label 1 makes the `jit_put_map_assoc` calls of `updates` in order
/// (entry 63, standard type 5, as AtomVM's generator calls it), storing
/// the answers at `at`, `at + 4`, ..., then terminates; in `form`'s way
/// (see [`BifForm`]: `WritesLocal2`, `Called` and `OtherType`, here one
/// argument fewer, are conditions under which the calls must stay calls).
/// The heap's top is at `heap_ptr` in the `Context`.
pub fn map_updates(form: BifForm, updates: &[MapUpdate], heap_ptr: u32, at: u32) -> ModuleSpec {
    let mut calls = Vec::new();
    for (i, u) in updates.iter().enumerate() {
        if let Some(top) = u.top {
            calls.extend([
                I::LocalGet(0),
                I::I32Const(top as i32),
                I::I32Store(mem(u64::from(heap_ptr))),
            ]);
        }
        for (offset, v) in [(0, u.key), (4, u.value)] {
            calls.extend([
                I::I32Const(u.kv as i32),
                I::I32Const(v as i32),
                I::I32Store(mem(offset)),
            ]);
        }
        calls.push(I::I32Const((at as usize + 4 * i) as i32));
        calls.extend([
            I::LocalGet(0),
            I::LocalGet(1),
            I::I32Const(u.map as i32),
            I::I32Const(u.new_entries as i32),
            I::I32Const(u.pairs as i32),
        ]);
        let mut params = 5;
        if form != BifForm::OtherType {
            calls.push(I::I32Const(u.kv as i32));
            params += 1;
        }
        calls.extend([
            I::LocalGet(2),
            I::I32Load(mem(u64::from(PUT_MAP_ASSOC) * 4)),
            I::CallIndirect {
                type_index: ty_ret(params),
                table_index: 0,
            },
            I::I32Store(mem(0)),
        ]);
    }
    terminating_with(form, &calls, &[])
}

/// Label 1 stores `term_find_map_pos(ctx, x[0], x[1])` in x[1] and
/// terminates (for the C test host).
pub fn map_x() -> ModuleSpec {
    let x = |i: u64| I::I32Load(mem(abi::CONTEXT_X + 4 * i));
    let mut l1 = Body::new();
    l1.store_x(
        1,
        &[
            I::LocalGet(0),
            I::LocalGet(0),
            x(0),
            I::LocalGet(0),
            x(1),
            I::LocalGet(2),
            I::I32Load(mem(u64::from(TERM_FIND_MAP_POS) * 4)),
            I::CallIndirect {
                type_index: ty_ret(3),
                table_index: 0,
            },
        ],
    )
    .tail_primitive(prim::TERMINATE_CONTEXT);
    ModuleSpec::standard(vec![stub(), l1.finish()])
}

/// Label 1 stores `jit_put_map_assoc(ctx, jit_state, x[0], 0, 1, x[1])`
/// (one pair at x[1], its key in the map at x[0]) in x[2] and terminates
/// (for the C test host).
pub fn map_update_x() -> ModuleSpec {
    let x = |i: u64| I::I32Load(mem(abi::CONTEXT_X + 4 * i));
    let mut l1 = Body::new();
    l1.store_x(
        2,
        &[
            I::LocalGet(0),
            I::LocalGet(1),
            I::LocalGet(0),
            x(0),
            I::I32Const(0),
            I::I32Const(1),
            I::LocalGet(0),
            x(1),
            I::LocalGet(2),
            I::I32Load(mem(u64::from(PUT_MAP_ASSOC) * 4)),
            I::CallIndirect {
                type_index: ty_ret(6),
                table_index: 0,
            },
        ],
    )
    .tail_primitive(prim::TERMINATE_CONTEXT);
    ModuleSpec::standard(vec![stub(), l1.finish()])
}

/// Interface entries 5 and 9, AtomVM's `allocate` and `deallocate`.
pub const ALLOCATE: u32 = 5;
pub const DEALLOCATE: u32 = 9;

/// `allocate` or `deallocate` (entry `entry`) with constant arguments.
fn frame_call(form: BifForm, entry: u32, args: &[i32]) -> Vec<I<'static>> {
    let consts = args.iter().map(|a| I::I32Const(*a)).collect();
    interface_call(form, entry, consts, args.len() as u32)
}

/// Label 1 makes a frame of `stack_need` words with `heap_need` words of
/// heap (`allocate`, its answer in x[1]), stores `e` in x[2], sets `cp`
/// to 0x770, drops the frame (`deallocate`, its answer in x[3]), and
/// terminates: `cp` and `e` end as they started. In `form`'s way (see
/// [`BifForm`]: `WritesLocal2`, `Called` and `OtherType` are conditions
/// under which the calls must stay calls).
pub fn frames(form: BifForm, stack_need: u32, heap_need: u32) -> ModuleSpec {
    let s = stack_need as i32;
    let mut calls = Vec::new();
    let x = x_store;
    calls.extend(x(1, frame_call(form, ALLOCATE, &[s, heap_need as i32, 1])));
    calls.extend(x(2, vec![I::LocalGet(0), I::I32Load(mem(abi::CONTEXT_E))]));
    calls.extend([
        I::LocalGet(0),
        I::I32Const(0x770),
        I::I32Store(mem(abi::CONTEXT_CP)),
    ]);
    calls.extend(x(3, frame_call(form, DEALLOCATE, &[s])));
    terminating_with(form, &calls, &[])
}

/// Interface entries `test_heap` and `term_alloc_tuple`.
pub const TEST_HEAP: u32 = 12;
pub const ALLOC_TUPLE: u32 = 16;

/// Label 1 checks the heap for `heap_need` words (`test_heap`, its answer
/// in x[1]), makes a tuple of `size` (`term_alloc_tuple`, its term in
/// x[2]), stores the heap's top (at `top`, in `ctx`) in x[3], and
/// terminates. In `form`'s way (see [`BifForm`]: `WritesLocal2`, `Called`
/// and `OtherType` are conditions under which the calls must stay calls).
pub fn heap_allocs(form: BifForm, heap_need: u32, size: u32, top: u32) -> ModuleSpec {
    let mut calls = Vec::new();
    let x = x_store;
    calls.extend(x(1, frame_call(form, TEST_HEAP, &[heap_need as i32, 3])));
    let tuple = vec![I::LocalGet(0), I::I32Const(size as i32)];
    calls.extend(x(2, call_entry(form, ALLOC_TUPLE, tuple, 2)));
    calls.extend(x(3, vec![I::LocalGet(0), I::I32Load(mem(u64::from(top)))]));
    terminating_with(form, &calls, &[])
}

/// Label 1 stores `term_compare(ctx, jit_state, x[0], x[1], 1)` in x[1]
/// and terminates (for the C test host).
pub fn compare_x() -> ModuleSpec {
    let x = |i: u64| [I::LocalGet(0), I::I32Load(mem(abi::CONTEXT_X + 4 * i))];
    let mut l1 = Body::new();
    l1.store_x(1, &compare_call(BifForm::Generated, &x(0), &x(1), 1))
        .tail_primitive(prim::TERMINATE_CONTEXT);
    ModuleSpec::standard(vec![stub(), l1.finish()])
}

/// Invalid modules that a rewrite once made valid: a memory import whose
/// minimum exceeds its maximum, and a primitive call whose load claims an
/// alignment of 16. Both must be refused whatever the rewrite options.
pub fn invalid_but_rewritable() -> Vec<(&'static str, ModuleSpec)> {
    let mut limits = countdown();
    limits.imports[0].2 = EntityType::Memory(MemoryType {
        minimum: 300,
        maximum: Some(10),
        memory64: false,
        shared: false,
        page_size_log2: None,
    });
    let mut align = countdown();
    let mut l3 = Body::new();
    l3.ops(&[
        I::LocalGet(0),
        I::LocalGet(1),
        I::LocalGet(2),
        I::I32Load(MemArg {
            offset: 40,
            align: 4,
            target: wasm_encoder::MemArgTarget::Memory(0),
            ordering: None,
        }),
        I::CallIndirect {
            type_index: ty_ret(2),
            table_index: 0,
        },
        I::Return,
    ]);
    align.bodies[3] = l3.finish();
    vec![
        ("memory_limits.stream", limits),
        ("load_align.stream", align),
    ]
}

/// Returns as AtomVM's generator writes them ([`Body::inline_return`]), for
/// the computed jumps: label 1 sets x[1] = 1, sets `cp` as `cp_to` says and
/// returns; label 3 (of this or the other module) adds 10 to x[1] and
/// terminates. `cp_to` is `(module index or None for the module running at
/// the return, label)`.
pub fn returning(cp_to: (Option<u32>, u32), n: u32) -> ModuleSpec {
    returning_with(cp_to, n, 3 + 8, BeforeReturn::Nothing, 10)
}

/// What label 1 of [`returning_with`] does right before its return.
#[derive(Debug, Clone, Copy)]
pub enum BeforeReturn {
    Nothing,
    /// Sets the remaining reductions to 0.
    SpendReductions,
    /// Calls the host's `set_module` with this module index.
    SwitchModule(u32),
}

/// [`returning`] with `locals` locals in label 1 (parameters included), a
/// step before the return, and label 3 adding `adds` to x[1].
pub fn returning_with(
    cp_to: (Option<u32>, u32),
    n: u32,
    locals: u32,
    before: BeforeReturn,
    adds: i32,
) -> ModuleSpec {
    let mut l1 = Body::with_locals(locals);
    l1.store_x(1, &[I::I32Const(1)]);
    match before {
        BeforeReturn::Nothing => {}
        BeforeReturn::SpendReductions => {
            l1.ops(&[
                I::LocalGet(1),
                I::I32Const(0),
                I::I32Store(mem(abi::JIT_STATE_REDUCTIONS)),
            ]);
        }
        BeforeReturn::SwitchModule(m) => {
            l1.ops(&[I::LocalGet(0), I::LocalGet(1), I::I32Const(m as i32)])
                .call_primitive(prim::TEST_SET_MODULE, ty_ret(3))
                .op(I::Drop);
        }
    }
    match cp_to {
        (None, label) => l1.set_cp(label),
        (Some(module), label) => l1.ops(&[
            I::LocalGet(0),
            I::I32Const(((module << 24) | (label * 16)) as i32),
            I::I32Store(mem(abi::CONTEXT_CP)),
        ]),
    };
    l1.inline_return();
    let mut l3 = Body::new();
    l3.add_x(1, adds).tail_primitive(prim::TERMINATE_CONTEXT);
    let mut bodies: Vec<Function> = (0..n).map(|_| stub()).collect();
    bodies[1] = l1.finish();
    bodies[3] = l3.finish();
    ModuleSpec::standard(bodies)
}

/// Every program the C test host runs, by file name: used by the
/// `jit-streamgen` tool to write them out.
pub fn host_streams() -> Vec<(String, Vec<u8>)> {
    let (a, b) = ping_pong(1, 2);
    let streams = vec![
        ("countdown.stream", stream_of(&countdown())),
        ("call_return.stream", stream_of(&call_return())),
        ("ping.stream", stream_of(&a)),
        ("pong.stream", stream_of(&b)),
        ("chain200.stream", stream_of(&chain(200))),
        ("ring200.stream", stream_of(&jump_ring(200))),
        ("chain1000.stream", stream_of(&chain(1000))),
        ("switch_a.stream", stream_of(&switch_a(9))),
        ("switch_b.stream", stream_of(&switch_b())),
        ("trap.stream", stream_of(&trapping())),
        ("local2_written.stream", stream_of(&local2_written())),
        ("past_interface.stream", stream_of(&past_interface())),
        ("called_jump.stream", stream_of(&called_jump())),
        ("return_here.stream", stream_of(&returning((None, 3), 5))),
        ("return_past.stream", stream_of(&returning((None, 7), 5))),
        ("many_locals.stream", stream_of(&many_locals(50_000))),
        ("big_body.stream", stream_of(&big_body(1_800_000))),
        ("jump_dense.stream", stream_of(&jump_dense(120, 5000))),
        ("bif_call.stream", stream_of(&bif_call(BifForm::Generated))),
        ("bif2_call.stream", stream_of(&bif2_call())),
        (
            "atom_call.stream",
            stream_of(&atom_call(BifForm::Generated)),
        ),
        ("compare_x.stream", stream_of(&compare_x())),
        ("map_x.stream", stream_of(&map_x())),
        ("map_update_x.stream", stream_of(&map_update_x())),
        (
            "frames.stream",
            stream_of(&frames(BifForm::Generated, 2, 3)),
        ),
        (
            "heap_allocs.stream",
            stream_of(&heap_allocs(BifForm::Generated, 20, 3, 0xC)),
        ),
        (
            "trim_call.stream",
            stream_of(&trim_call(BifForm::Generated)),
        ),
    ];
    let mut streams: Vec<(String, Vec<u8>)> = streams
        .into_iter()
        .map(|(name, bytes)| (name.to_string(), bytes))
        .collect();
    for k in 0..8u32 {
        streams.push((
            format!("marker{k}.stream"),
            stream_of(&marker(k, 3 + 7 * k)),
        ));
    }
    streams
}

/// Malformed streams, each with a fragment of the message that must name its
/// problem: `(file name, bytes, expected message fragment)`.
pub fn bad_streams() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let good = stream_of(&countdown());
    let wasm_offset = u32::from_le_bytes([good[4], good[5], good[6], good[7]]) as usize;
    let patched = |at: usize, value: u32| {
        let mut b = good.clone();
        b[at..at + 4].copy_from_slice(&value.to_le_bytes());
        b
    };
    let byte = |at: usize, value: u8| {
        let mut b = good.clone();
        b[at] = value;
        b
    };
    let bent = |f: &dyn Fn(&mut ModuleSpec)| {
        let mut spec = countdown();
        f(&mut spec);
        stream_of(&spec)
    };
    let mut not_validating = countdown();
    not_validating.bodies[3] = {
        let mut f = Function::new([]);
        f.instruction(&I::I64Const(0));
        f.instruction(&I::End);
        f
    };
    let mut lines_cut = good.clone();
    lines_cut.pop();
    vec![
        (
            "truncated.stream",
            good[..7].to_vec(),
            "header alone needs 12",
        ),
        ("bad_magic.stream", byte(wasm_offset + 1, b'x'), "bad magic"),
        (
            "bad_version.stream",
            byte(wasm_offset + 4, 2),
            "bad version",
        ),
        (
            "out_of_order.stream",
            patched(8, wasm_offset as u32),
            "offsets out of order",
        ),
        (
            "lines_past_end.stream",
            patched(8, good.len() as u32 + 1),
            "past the end",
        ),
        (
            "wasm_past_end.stream",
            patched(4, 1 << 20),
            "wasm_offset 1048576 is past the end",
        ),
        ("too_many_entries.stream", patched(0, 1 << 24), "below 2^24"),
        ("count_mismatch.stream", patched(0, 5), "num_entries is 5"),
        (
            "lines_truncated.stream",
            lines_cut,
            "line metadata truncated",
        ),
        (
            "not_validating.stream",
            stream_of(&not_validating),
            "CompileError",
        ),
        (
            "extra_import.stream",
            bent(&|m| {
                m.imports
                    .push(("env".into(), "f".into(), EntityType::Function(0)))
            }),
            "unexpected import env.f",
        ),
        (
            "wrong_export.stream",
            bent(&|m| m.exports[2].0 = "main".into()),
            "unexpected export \"main\"",
        ),
        (
            "start_function.stream",
            bent(&|m| m.start = Some(0)),
            "start function",
        ),
        (
            "wrong_type.stream",
            bent(&|m| m.func_types[1] = 0),
            "function 1 has type 0",
        ),
        (
            "memory_limits.stream",
            stream_of(&invalid_but_rewritable()[0].1),
            "CompileError",
        ),
        (
            "load_align.stream",
            stream_of(&invalid_but_rewritable()[1].1),
            "CompileError",
        ),
    ]
}

/// Builds the trampoline module of [`crate::rewrite::TRAMPOLINES`]: imports the table and exports, for each
/// standard type S of spec section 4, `t<S>`: `(params of S, i32 index) ->
/// results of S`, which does `call_indirect (type S)` on its last argument.
pub fn trampoline_module() -> Vec<u8> {
    let valtype = |b: &u8| {
        if *b == crate::module::I64 {
            ValType::I64
        } else {
            ValType::I32
        }
    };
    let standard = crate::module::STANDARD_TYPES;
    let count = standard.len() as u32;
    let mut types = TypeSection::new();
    for sig in &standard {
        types.ty().function(
            sig.params.iter().map(valtype),
            sig.results.iter().map(valtype),
        );
    }
    for sig in &standard {
        let mut params: Vec<ValType> = sig.params.iter().map(valtype).collect();
        params.push(ValType::I32);
        types.ty().function(params, sig.results.iter().map(valtype));
    }
    let mut imports = ImportSection::new();
    imports.import(
        "env",
        "__indirect_function_table",
        EntityType::Table(crate::rewrite::table_import()),
    );
    let mut funcs = wasm_encoder::FunctionSection::new();
    let mut exports = ExportSection::new();
    let mut code = wasm_encoder::CodeSection::new();
    for (s, sig) in standard.iter().enumerate() {
        let s = s as u32;
        funcs.function(count + s);
        exports.export(&format!("t{s}"), ExportKind::Func, s);
        let mut f = wasm_encoder::Function::new([]);
        let mut sink = f.instructions();
        for i in 0..=sig.params.len() as u32 {
            sink.local_get(i);
        }
        sink.call_indirect(0, s).end();
        code.function(&f);
    }
    // Names, so that profiles show `t4` rather than `wasm-function[4]`.
    let mut names = wasm_encoder::NameMap::new();
    for s in 0..count {
        names.append(s, &format!("t{s}"));
    }
    let mut name_section = wasm_encoder::NameSection::new();
    name_section.module("atomvm_wasm_jit_trampolines");
    name_section.functions(&names);
    let mut module = wasm_encoder::Module::new();
    module
        .section(&types)
        .section(&imports)
        .section(&funcs)
        .section(&exports)
        .section(&code)
        .section(&name_section);
    module.finish()
}
