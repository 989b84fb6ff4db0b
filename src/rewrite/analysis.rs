//! The analysis every rewrite shares: one scan of a function body that finds
//! the instruction sequences of spec section 4 (jumps, primitive calls) and
//! the other calls, in code order, and learns what the passes must know to
//! decide whether a rewrite is exact in that function (which parameters it
//! writes, how many locals it has, whether it uses the table otherwise).
//!
//! The scan reports each site to a callback as soon as it is complete, so
//! that sizing and writing a rewritten body need no memory proportional to
//! the body.

use super::reader::{Op, Reader};
use crate::abi;
use crate::error::{Error, Result};
use crate::module::offset as at;
use wasmparser::FunctionBody;

/// A place in a body that a rewrite may change, at module offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Site {
    /// A jump to `label` (spec section 4): `local.get 1; i32.const L+1;
    /// i32.store offset=4; local.get 0` then `return` or the body's end. `at`
    /// is the offset of its `local.get 1`.
    Jump { at: usize, label: u32 },
    /// Any other return of ctx: `local.get 0` at `at`, then `return` or the
    /// body's end.
    Exit { at: usize },
    /// `local.get 2; i32.load offset=O; call_indirect (type ty) (table 0)`
    /// from `start`; the `call_indirect` is at `[call, call_end)`. If a
    /// `return` follows at once, `ret_end` is the offset after it. `args`:
    /// the two instructions before it push a local and a constant.
    Primitive {
        start: usize,
        offset: u64,
        call: usize,
        call_end: usize,
        ty: u32,
        ret_end: Option<usize>,
        args: Option<LocalAndConst>,
    },
    /// Any other `call_indirect` on table 0, at `[start, end)`.
    Computed { start: usize, end: usize, ty: u32 },
    /// `call` (or, with `tail`, `return_call`) of `func` at `[start, end)`.
    Call {
        start: usize,
        end: usize,
        func: u32,
        tail: bool,
    },
}

/// A call's last two arguments pushed right before it (with nothing in
/// between, so they are the values the call receives): `local.get local`
/// at `start`, then `i32.const value`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalAndConst {
    pub start: usize,
    pub local: u32,
    pub value: i32,
}

/// What a scan learned of one body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyFacts {
    /// Locals, the 3 parameters included.
    pub num_locals: u64,
    /// Bit i set: local i (i < 3: ctx, jit_state, native interface) is
    /// written somewhere in the body.
    pub params_written: u8,
    /// The body uses the table other than by `call_indirect` on table 0.
    pub uses_table: bool,
    /// The body has at least one jump sequence.
    pub has_jumps: bool,
    /// The body has at least one other return of ctx.
    pub has_exits: bool,
}

impl BodyFacts {
    pub fn writes_param(&self, local: u32) -> bool {
        self.params_written & (1 << local) != 0
    }
}

/// Scans `body`, reporting each site to `on_site` in code order (a site's
/// start follows the previous site's end), and returns what it learned.
/// `num_functions` bounds the labels a jump may name.
pub fn scan(
    wasm: &[u8],
    body: &FunctionBody<'_>,
    num_functions: u32,
    base: usize,
    mut on_site: impl FnMut(Site) -> Result<()>,
) -> Result<BodyFacts> {
    let bad = |e: wasmparser::BinaryReaderError| Error::module(&e, base);
    let mut locals = body.get_locals_reader().map_err(bad)?;
    let mut num_locals: u64 = 3;
    for _ in 0..locals.get_count() {
        let (count, _) = locals.read().map_err(bad)?;
        num_locals = num_locals.saturating_add(u64::from(count));
    }
    let mut ops = Reader::new(
        wasm,
        at(locals.original_position()),
        at(body.range().end),
        base,
    );
    let mut facts = BodyFacts {
        num_locals,
        params_written: 0,
        uses_table: false,
        has_jumps: false,
        has_exits: false,
    };
    // A primitive call waits here until the next instruction says whether
    // it is in tail position.
    let mut pending: Option<Site> = None;
    // The last five instructions with their start offsets, in a ring whose
    // newest entry is at `newest` (a ring: shifting five entries on every
    // instruction cost more than decoding it).
    let mut ring = [(Op::Other, 0usize); 5];
    let mut newest = 0usize;
    // The ring in order, oldest first.
    let window = |ring: &[(Op, usize); 5], newest: usize| -> [(Op, usize); 5] {
        std::array::from_fn(|i| ring[(newest + 1 + i) % 5])
    };
    let mut last = Op::Other;
    while !ops.eof() {
        let offset = ops.position();
        let op = ops.read()?;
        last = op;
        let end = ops.position();
        if let Some(Site::Primitive {
            start,
            offset: o,
            call,
            call_end,
            ty,
            args,
            ..
        }) = pending.take()
        {
            let ret_end = (op == Op::Return).then_some(end);
            on_site(Site::Primitive {
                start,
                offset: o,
                call,
                call_end,
                ty,
                ret_end,
                args,
            })?;
        }
        match op {
            Op::LocalWrite(local) if local < 3 => facts.params_written |= 1 << local,
            Op::Return | Op::End if op == Op::Return || ops.eof() => {
                let window = window(&ring, newest);
                if let Some((label, at)) = jump_before(&window, num_functions) {
                    facts.has_jumps = true;
                    on_site(Site::Jump { at, label })?;
                } else if let (Op::LocalGet(0), at) = window[4] {
                    facts.has_exits = true;
                    on_site(Site::Exit { at })?;
                }
            }
            Op::CallIndirect { ty, table: 0 } => match window(&ring, newest) {
                [_, w1, w2, (Op::LocalGet(2), start), (Op::I32Load(o), _)] => {
                    let args = match (w1, w2) {
                        ((Op::LocalGet(local), start), (Op::I32Const(value), _)) => {
                            Some(LocalAndConst {
                                start,
                                local,
                                value,
                            })
                        }
                        _ => None,
                    };
                    pending = Some(Site::Primitive {
                        start,
                        offset: o,
                        call: offset,
                        call_end: end,
                        ty,
                        ret_end: None,
                        args,
                    })
                }
                _ => on_site(Site::Computed {
                    start: offset,
                    end,
                    ty,
                })?,
            },
            Op::Call(func) | Op::ReturnCall(func) => on_site(Site::Call {
                start: offset,
                end,
                func,
                tail: matches!(op, Op::ReturnCall(_)),
            })?,
            Op::CallIndirect { .. } | Op::UsesTable => facts.uses_table = true,
            _ => {}
        }
        newest = if newest == 4 { 0 } else { newest + 1 };
        ring[newest] = (op, offset);
    }
    if last != Op::End {
        return Err(Error::module_text(
            "function body does not end with `end`",
            base.saturating_add(ops.position()),
        ));
    }
    if let Some(site) = pending {
        on_site(site)?; // a body cannot end with it, but stay total
    }
    Ok(facts)
}

/// If the last four instructions are `local.get 1; i32.const L+1;
/// i32.store offset=4; local.get 0` with L a label, returns L and the offset
/// of the `local.get 1`.
fn jump_before(window: &[(Op, usize); 5], num_functions: u32) -> Option<(u32, usize)> {
    match window {
        [_, (Op::LocalGet(1), start), (Op::I32Const(value), _), (Op::I32Store(abi::JIT_STATE_CONTINUATION), _), (Op::LocalGet(0), _)] =>
        {
            let label = u32::try_from(*value).ok()?.checked_sub(1)?;
            (label < num_functions).then_some((label, *start))
        }
        _ => None,
    }
}
