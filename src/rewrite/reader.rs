//! The instruction reader of the analysis: reads one instruction of a
//! function body and tells the little the rewriter needs to know of it
//! ([`Op`]), skipping every immediate exactly.
//!
//! Why not wasmparser's operator decoder: it decodes every instruction of
//! every proposal, and monomorphised for the analysis it is one function of
//! about 24 KB of wasm. That function runs hot at every load, so in a page
//! V8 compiles it with its optimising tier in the page's first second, next
//! to the page's own work (about 100 ms on a 2-core machine, more than the
//! rewrite itself). This reader is a small table of immediates.
//!
//! It reads the instructions the engines' validators accept for modules of
//! spec section 4's shape: the MVP, sign extension, non-trapping
//! conversions, bulk memory, reference types, multi-value, tail calls,
//! typed function references, threads and exception handling. SIMD, GC and
//! any other prefix or opcode are refused with a message naming the
//! instruction: AtomVM's generator emits none of them (it emits a few
//! dozen MVP instructions), and a refusal is a clear error where a guess
//! would be a wrong rewrite. The tests compare it with wasmparser on every
//! instruction it reads.

use crate::error::{Error, Result};

/// The little the rewriter needs to know of an instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    LocalGet(u32),
    /// `local.set` or `local.tee`.
    LocalWrite(u32),
    I32Const(i32),
    /// `i32.load` from memory 0 at this static offset.
    I32Load(u64),
    /// `i32.store` to memory 0 at this static offset.
    I32Store(u64),
    Return,
    End,
    CallIndirect {
        ty: u32,
        table: u32,
    },
    Call(u32),
    ReturnCall(u32),
    /// Any other use of a table or of function references.
    UsesTable,
    Other,
}

/// Reads the instructions in `[pos, end)` of a module's bytes.
pub struct Reader<'a> {
    wasm: &'a [u8],
    pos: usize,
    end: usize,
    /// Added to module offsets in messages (the module's offset in the
    /// stream).
    base: usize,
}

impl<'a> Reader<'a> {
    /// A reader of `wasm[start..end]`; `end` is clamped to the module.
    pub fn new(wasm: &'a [u8], start: usize, end: usize, base: usize) -> Reader<'a> {
        let end = end.min(wasm.len());
        Reader {
            wasm,
            pos: start.min(end),
            end,
            base,
        }
    }

    /// The module offset of the next instruction.
    pub fn position(&self) -> usize {
        self.pos
    }

    pub fn eof(&self) -> bool {
        self.pos >= self.end
    }

    #[cold]
    fn error(&self, what: &str, at: usize) -> Error {
        Error::module_text(what, self.base.saturating_add(at))
    }

    #[cold]
    fn unsupported(&self, what: &str, code: u32, at: usize) -> Error {
        self.error(
            &format!("{what} 0x{code:02x} is not supported in a JIT module"),
            at,
        )
    }

    fn byte(&mut self) -> Result<u8> {
        let b = *self
            .wasm
            .get(self.pos)
            .filter(|_| self.pos < self.end)
            .ok_or_else(|| self.error("unexpected end of function body", self.pos))?;
        self.pos += 1;
        Ok(b)
    }

    fn skip(&mut self, n: usize) -> Result<()> {
        match self.pos.checked_add(n) {
            Some(p) if p <= self.end => {
                self.pos = p;
                Ok(())
            }
            _ => Err(self.error("unexpected end of function body", self.pos)),
        }
    }

    /// The next byte if it is below `0x80` (a LEB128 of one byte), taken.
    /// Most immediates are one byte: this reads them without a call or a
    /// loop, in whichever tier the engine runs the reader.
    #[inline(always)]
    fn small(&mut self) -> Option<u8> {
        let b = *self.wasm.get(self.pos).filter(|_| self.pos < self.end)?;
        if b < 0x80 {
            self.pos += 1;
            Some(b)
        } else {
            None
        }
    }

    /// An unsigned LEB128 of at most `bits` bits (`bits` at least 7).
    #[inline(always)]
    fn uleb(&mut self, bits: u32) -> Result<u64> {
        match self.small() {
            Some(b) => Ok(u64::from(b)),
            None => self.uleb_long(bits),
        }
    }

    #[inline(never)]
    fn uleb_long(&mut self, bits: u32) -> Result<u64> {
        let start = self.pos;
        let mut value: u64 = 0;
        let mut shift = 0u32;
        loop {
            let b = self.byte()?;
            let low = u64::from(b & 0x7f);
            if shift + 7 > bits && low >> (bits - shift) != 0 {
                return Err(self.error("integer too large", start));
            }
            value |= low << shift;
            if b & 0x80 == 0 {
                return Ok(value);
            }
            shift += 7;
            if shift >= bits {
                return Err(self.error("integer representation too long", start));
            }
        }
    }

    /// A signed LEB128 of at most `bits` bits (`bits` in 8..=64).
    #[inline(always)]
    fn sleb(&mut self, bits: u32) -> Result<i64> {
        match self.small() {
            // One byte, which any width from 8 bits holds; bit 6 the sign.
            Some(b) => Ok(i64::from(((b << 1) as i8) >> 1)),
            None => self.sleb_long(bits),
        }
    }

    #[inline(never)]
    fn sleb_long(&mut self, bits: u32) -> Result<i64> {
        let start = self.pos;
        let mut value: i64 = 0;
        let mut shift = 0u32;
        loop {
            let b = self.byte()?;
            value |= i64::from(b & 0x7f) << shift;
            if shift + 7 >= bits {
                // The last byte allowed: no continuation, and its bits
                // above the number's sign bit must copy the sign bit.
                let sign_and_unused = ((b << 1) as i8) >> (bits - shift);
                if b & 0x80 != 0 || (sign_and_unused != 0 && sign_and_unused != -1) {
                    return Err(self.error("integer representation too long or too large", start));
                }
                let unused = 64 - bits;
                return Ok((value << unused) >> unused);
            }
            shift += 7;
            if b & 0x80 == 0 {
                let unused = 64 - shift;
                return Ok((value << unused) >> unused);
            }
        }
    }

    #[inline(always)]
    fn u32(&mut self) -> Result<u32> {
        // At most 32 bits, so the conversion cannot fail.
        Ok(self.uleb(32)? as u32)
    }

    /// A memory argument: its memory and static offset. Of the flags, only
    /// the alignment (below 16) and bit 6 (a memory index follows) are
    /// read; the bits of proposals no engine ships (orderings, arrays) are
    /// refused.
    #[inline(always)]
    fn memarg(&mut self) -> Result<(u32, u64)> {
        let at = self.pos;
        let flags = self.u32()?;
        if flags & !0x40 >= 16 {
            return Err(self.unsupported("the memory argument flags", flags, at));
        }
        let memory = if flags & 0x40 != 0 { self.u32()? } else { 0 };
        Ok((memory, self.uleb(64)?))
    }

    /// Refuses the type prefixes of proposals no engine ships (shared
    /// types, exact types), which would change how many bytes follow.
    fn no_type_prefix(&self) -> Result<()> {
        match self.wasm.get(self.pos) {
            Some(&b @ (0x62 | 0x65)) => {
                Err(self.unsupported("the type prefix", b.into(), self.pos))
            }
            _ => Ok(()),
        }
    }

    /// A heap type: an abstract type (one negative byte) or a type index.
    fn heap_type(&mut self) -> Result<()> {
        self.no_type_prefix()?;
        self.sleb(33).map(drop)
    }

    /// A value type: one byte, or a reference type with its heap type.
    fn val_type(&mut self) -> Result<()> {
        self.no_type_prefix()?;
        match self.byte()? {
            0x63 | 0x64 => self.heap_type(),
            _ => Ok(()),
        }
    }

    /// A block type: empty, a value type, or a type index.
    fn block_type(&mut self) -> Result<()> {
        self.no_type_prefix()?;
        match self.wasm.get(self.pos) {
            Some(0x63 | 0x64) => self.val_type(),
            _ => self.sleb(33).map(drop),
        }
    }

    /// Reads the next instruction.
    pub fn read(&mut self) -> Result<Op> {
        let at = self.pos;
        let code = self.byte()?;
        Ok(match code {
            0x0b => Op::End,
            0x0f => Op::Return,
            // unreachable, nop, else, throw_ref, catch_all, drop, select
            0x00 | 0x01 | 0x05 | 0x0a | 0x19 | 0x1a | 0x1b => Op::Other,
            // block, loop, if, try
            0x02..=0x04 | 0x06 => {
                self.block_type()?;
                Op::Other
            }
            // catch, throw, rethrow, br, br_if, delegate, global.get/set,
            // br_on_null, br_on_non_null
            0x07..=0x09 | 0x0c | 0x0d | 0x18 | 0x23 | 0x24 | 0xd5 | 0xd6 => {
                self.u32()?;
                Op::Other
            }
            0x0e => {
                let n = self.u32()?;
                for _ in 0..=n {
                    self.u32()?;
                }
                Op::Other
            }
            0x10 => Op::Call(self.u32()?),
            0x11 => {
                let ty = self.u32()?;
                Op::CallIndirect {
                    ty,
                    table: self.u32()?,
                }
            }
            0x12 => Op::ReturnCall(self.u32()?),
            0x13 => {
                self.u32()?;
                self.u32()?;
                Op::UsesTable
            }
            // call_ref, return_call_ref, table.get, table.set, ref.func
            0x14 | 0x15 | 0x25 | 0x26 | 0xd2 => {
                self.u32()?;
                Op::UsesTable
            }
            0x1c => {
                let n = self.u32()?;
                for _ in 0..n {
                    self.val_type()?;
                }
                Op::Other
            }
            0x1f => {
                self.block_type()?;
                let n = self.u32()?;
                for _ in 0..n {
                    let kind = self.byte()?;
                    match kind {
                        0 | 1 => {
                            self.u32()?;
                            self.u32()?;
                        }
                        2 | 3 => {
                            self.u32()?;
                        }
                        _ => {
                            return Err(self.unsupported(
                                "the try_table catch kind",
                                kind.into(),
                                at,
                            ))
                        }
                    }
                }
                Op::Other
            }
            0x20 => Op::LocalGet(self.u32()?),
            0x21 | 0x22 => Op::LocalWrite(self.u32()?),
            0x28..=0x3e => {
                let (memory, offset) = self.memarg()?;
                match (code, memory) {
                    (0x28, 0) => Op::I32Load(offset),
                    (0x36, 0) => Op::I32Store(offset),
                    _ => Op::Other,
                }
            }
            // memory.size, memory.grow
            0x3f | 0x40 => {
                self.u32()?;
                Op::Other
            }
            0x41 => Op::I32Const(self.sleb(32)? as i32),
            0x42 => {
                self.sleb(64)?;
                Op::Other
            }
            0x43 => {
                self.skip(4)?;
                Op::Other
            }
            0x44 => {
                self.skip(8)?;
                Op::Other
            }
            // numeric, ref.is_null, ref.eq, ref.as_non_null
            0x45..=0xc4 | 0xd1 | 0xd3 | 0xd4 => Op::Other,
            0xd0 => {
                self.heap_type()?;
                Op::Other
            }
            0xfc => self.misc(at)?,
            0xfe => self.atomic(at)?,
            0xfd => return Err(self.unsupported("the SIMD prefix", code.into(), at)),
            0xfb => return Err(self.unsupported("the GC prefix", code.into(), at)),
            _ => return Err(self.unsupported("the opcode", code.into(), at)),
        })
    }

    /// The 0xfc prefix: conversions, bulk memory, tables.
    fn misc(&mut self, at: usize) -> Result<Op> {
        let sub = self.u32()?;
        Ok(match sub {
            0..=7 => Op::Other,
            // memory.init, memory.copy
            8 | 10 => {
                self.u32()?;
                self.u32()?;
                Op::Other
            }
            // data.drop, memory.fill
            9 | 11 => {
                self.u32()?;
                Op::Other
            }
            // table.init, table.copy
            12 | 14 => {
                self.u32()?;
                self.u32()?;
                Op::UsesTable
            }
            // elem.drop, table.grow, table.size, table.fill
            13 | 15..=17 => {
                self.u32()?;
                Op::UsesTable
            }
            _ => return Err(self.unsupported("the instruction 0xfc", sub, at)),
        })
    }

    /// The 0xfe prefix: atomic memory accesses and the fence.
    fn atomic(&mut self, at: usize) -> Result<Op> {
        let sub = self.u32()?;
        match sub {
            0x00..=0x02 | 0x10..=0x4e => {
                self.memarg()?;
            }
            0x03 => {
                if self.byte()? != 0 {
                    return Err(self.error("atomic.fence: nonzero byte", at));
                }
            }
            _ => return Err(self.unsupported("the instruction 0xfe", sub, at)),
        }
        Ok(Op::Other)
    }
}

#[cfg(test)]
mod tests {
    //! The reader against wasmparser's operator decoder (the reference it
    //! replaces, `oracle::reader`): the same instruction boundaries and the same [`Op`] on
    //! every instruction it reads; a clear error, never a panic, on the
    //! rest.
    use super::{Op, Reader};
    use std::borrow::Cow;
    use wasm_encoder::{
        BlockType, Catch, HeapType, Ieee32, Ieee64, Instruction as I, MemArg, Ordering, RefType,
        ValType,
    };

    // The reference: wasmparser's decoder, mapped as the oracle maps it.
    use crate::oracle::reader::expected;

    /// The instructions of `code` (a body's operators, no locals): each
    /// one's Op and [start, end), by wasmparser.
    fn reference(code: &[u8]) -> Vec<(Op, usize, usize)> {
        let mut bytes = vec![0u8]; // no locals
        bytes.extend_from_slice(code);
        let body = wasmparser::FunctionBody::new(wasmparser::BinaryReader::new(&bytes, 0));
        let mut ops = body.get_operators_reader().expect("operators");
        let mut out = Vec::new();
        while !ops.eof() {
            let start = ops.original_position() as usize;
            let op = ops.read().expect("wasmparser decodes it");
            out.push((expected(&op), start, ops.original_position() as usize));
        }
        out
    }

    /// The same by the reader, or its first error.
    fn ours(code: &[u8]) -> Result<Vec<(Op, usize, usize)>, String> {
        let mut bytes = vec![0u8];
        bytes.extend_from_slice(code);
        let mut r = Reader::new(&bytes, 1, bytes.len(), 0);
        let mut out = Vec::new();
        while !r.eof() {
            let start = r.position();
            let op = r.read().map_err(|e| e.message().to_string())?;
            out.push((op, start, r.position()));
        }
        Ok(out)
    }

    fn encode(instrs: &[I<'_>]) -> Vec<u8> {
        let mut code = Vec::new();
        for i in instrs {
            wasm_encoder::Encode::encode(i, &mut code);
        }
        code
    }

    fn mem(offset: u64, align: u32, memory: u32) -> MemArg {
        MemArg {
            offset,
            align,
            target: wasm_encoder::MemArgTarget::Memory(memory),
            ordering: None,
        }
    }

    /// Every instruction the reader reads, with immediates of one and
    /// several bytes, in a body wasmparser decodes (blocks closed).
    fn every_instruction() -> Vec<I<'static>> {
        let concrete = ValType::Ref(RefType {
            nullable: false,
            heap_type: HeapType::Concrete(300),
        });
        let func = HeapType::Abstract {
            shared: false,
            ty: wasm_encoder::AbstractHeapType::Func,
        };
        let mut v = vec![
            I::Unreachable,
            I::Nop,
            I::Block(BlockType::Empty),
            I::Loop(BlockType::Result(ValType::I32)),
            I::Block(BlockType::Result(ValType::F64)),
            I::Block(BlockType::Result(concrete)),
            I::Block(BlockType::FunctionType(3)),
            I::Block(BlockType::FunctionType(70_000)),
            I::If(BlockType::Empty),
            I::Else,
            I::End,
            I::End,
            I::End,
            I::End,
            I::End,
            I::End,
            I::Br(0),
            I::BrIf(200),
            I::BrTable(Cow::Owned(vec![0, 1, 300, 70_000]), 2),
            I::BrTable(Cow::Owned(vec![]), 0),
            I::Return,
            I::Call(0),
            I::Call(1_000_000),
            I::CallIndirect {
                type_index: 2,
                table_index: 0,
            },
            I::CallIndirect {
                type_index: 200,
                table_index: 130,
            },
            I::ReturnCall(7),
            I::ReturnCallIndirect {
                type_index: 2,
                table_index: 1,
            },
            I::CallRef(4),
            I::ReturnCallRef(400),
            I::Drop,
            I::Select,
            I::TypedSelect(ValType::I64),
            I::TypedSelect(concrete),
            I::TypedSelectMulti(Cow::Owned(vec![ValType::I32, ValType::FUNCREF])),
            I::LocalGet(0),
            I::LocalGet(2),
            I::LocalGet(70_000),
            I::LocalSet(1),
            I::LocalTee(300),
            I::GlobalGet(5),
            I::GlobalSet(128),
            I::TableGet(0),
            I::TableSet(2),
            I::I32Load(mem(4, 2, 0)),
            I::I32Load(mem(300, 2, 0)),
            I::I32Load(mem(0xffff_ffff, 0, 0)),
            I::I32Load(mem(8, 2, 1)),
            I::I64Load(mem(8, 3, 0)),
            I::F32Load(mem(0, 2, 0)),
            I::F64Load(mem(0, 3, 0)),
            I::I32Load8S(mem(1, 0, 0)),
            I::I32Load8U(mem(1, 0, 0)),
            I::I32Load16S(mem(1, 1, 0)),
            I::I32Load16U(mem(1, 1, 0)),
            I::I64Load8S(mem(1, 0, 0)),
            I::I64Load8U(mem(1, 0, 0)),
            I::I64Load16S(mem(1, 1, 0)),
            I::I64Load16U(mem(1, 1, 0)),
            I::I64Load32S(mem(1, 2, 0)),
            I::I64Load32U(mem(1, 2, 0)),
            I::I32Store(mem(4, 2, 0)),
            I::I32Store(mem(1 << 20, 2, 0)),
            I::I32Store(mem(4, 2, 3)),
            I::I64Store(mem(0, 3, 0)),
            I::F32Store(mem(0, 2, 0)),
            I::F64Store(mem(0, 3, 0)),
            I::I32Store8(mem(0, 0, 0)),
            I::I32Store16(mem(0, 1, 0)),
            I::I64Store8(mem(0, 0, 0)),
            I::I64Store16(mem(0, 1, 0)),
            I::I64Store32(mem(0, 2, 0)),
            I::MemorySize(0),
            I::MemoryGrow(0),
            I::MemorySize(1),
            I::I32Const(0),
            I::I32Const(-1),
            I::I32Const(63),
            I::I32Const(64),
            I::I32Const(-65),
            I::I32Const(i32::MAX),
            I::I32Const(i32::MIN),
            I::I64Const(i64::MAX),
            I::I64Const(i64::MIN),
            I::I64Const(-3),
            I::F32Const(Ieee32::from(1.5f32)),
            I::F64Const(Ieee64::from(-2.25f64)),
            I::RefNull(func),
            I::RefNull(HeapType::Concrete(5)),
            I::RefIsNull,
            I::RefFunc(9),
            I::RefAsNonNull,
            I::RefEq,
            I::BrOnNull(0),
            I::BrOnNonNull(1),
            I::I32TruncSatF32S,
            I::I32TruncSatF32U,
            I::I32TruncSatF64S,
            I::I32TruncSatF64U,
            I::I64TruncSatF32S,
            I::I64TruncSatF32U,
            I::I64TruncSatF64S,
            I::I64TruncSatF64U,
            I::MemoryInit {
                mem: 0,
                data_index: 3,
            },
            I::DataDrop(3),
            I::MemoryCopy {
                src_mem: 0,
                dst_mem: 1,
            },
            I::MemoryFill(0),
            I::TableInit {
                elem_index: 1,
                table: 0,
            },
            I::ElemDrop(1),
            I::TableCopy {
                src_table: 0,
                dst_table: 2,
            },
            I::TableGrow(0),
            I::TableSize(1),
            I::TableFill(0),
            I::MemoryAtomicNotify(mem(0, 2, 0)),
            I::MemoryAtomicWait32(mem(4, 2, 0)),
            I::MemoryAtomicWait64(mem(8, 3, 0)),
            I::AtomicFence(Ordering::SeqCst),
            I::I32AtomicLoad(mem(0, 2, 0)),
            I::I64AtomicStore(mem(16, 3, 0)),
            I::I32AtomicRmwAdd(mem(0, 2, 0)),
            I::I64AtomicRmw32CmpxchgU(mem(0, 2, 0)),
            I::Try(BlockType::Empty),
            I::Throw(0),
            I::Catch(0),
            I::Rethrow(0),
            I::CatchAll,
            I::End,
            I::Try(BlockType::Result(ValType::I32)),
            I::Delegate(0),
            I::TryTable(
                BlockType::Empty,
                Cow::Owned(vec![
                    Catch::One { tag: 0, label: 0 },
                    Catch::OneRef { tag: 300, label: 1 },
                    Catch::All { label: 2 },
                    Catch::AllRef { label: 0 },
                ]),
            ),
            I::ThrowRef,
            I::End,
        ];
        v.push(I::End); // the body's end
        v
    }

    #[test]
    fn reads_every_instruction_as_wasmparser_does() {
        let mut code = encode(&every_instruction());
        // The numeric instructions without immediates, 0x45..=0xc4, and
        // the sign extensions among them.
        let end = code.pop();
        code.extend(0x45u8..=0xc4);
        code.extend(end);
        let expected = reference(&code);
        assert!(expected.len() > 250, "{} instructions", expected.len());
        assert_eq!(ours(&code), Ok(expected));
    }

    #[test]
    fn reads_each_instruction_alone() {
        for i in every_instruction() {
            // These read only inside their blocks (above).
            if matches!(
                i,
                I::Else | I::End | I::Catch(_) | I::CatchAll | I::Delegate(_)
            ) {
                continue;
            }
            let code = encode(std::slice::from_ref(&i));
            assert_eq!(ours(&code), Ok(reference(&code)), "{i:?}");
        }
    }

    #[test]
    fn reads_every_fixture_body_as_wasmparser_does() {
        let dir = std::env::var_os("ATOMVM_WASM_JIT_FIXTURES")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/fixtures").into());
        let mut bodies = 0;
        for name in ["fx_arith", "fx_terms", "fx_procs", "fx_many"] {
            let Ok(bytes) = std::fs::read(dir.join(format!("{name}.stream"))) else {
                assert!(
                    std::env::var_os("CI").is_none(),
                    "CI must have the fixtures"
                );
                continue;
            };
            let s = crate::stream::parse(&bytes).expect("fixture stream");
            for p in crate::module::parser().parse_all(s.wasm) {
                if let Ok(wasmparser::Payload::CodeSectionEntry(body)) = p {
                    let mut locals = body.get_locals_reader().expect("locals");
                    for _ in 0..locals.get_count() {
                        locals.read().expect("local");
                    }
                    let start = locals.original_position() as usize;
                    let end = body.range().end as usize;
                    let mut r = Reader::new(s.wasm, start, end, 0);
                    let mut ops = body.get_operators_reader().expect("operators");
                    while !ops.eof() {
                        let at = ops.original_position() as usize;
                        let op = ops.read().expect("decodes");
                        assert_eq!(r.position(), at, "{name}");
                        assert_eq!(r.read().expect("reads"), expected(&op), "{name} at {at}");
                    }
                    assert!(r.eof(), "{name}");
                    bodies += 1;
                }
            }
        }
        if bodies == 0 {
            eprintln!("fixtures not found at {}: skipped", dir.display());
        } else {
            assert_eq!(bodies, 30 + 33 + 29 + 953, "every fixture's bodies");
        }
    }

    #[test]
    fn padded_integers_read_as_wasmparser_reads_them() {
        // local.get 1 with its index in 5 bytes, i32.const -1 in 5 bytes,
        // i32.load with its offset in 10 bytes.
        let code = [
            0x20, 0x81, 0x80, 0x80, 0x80, 0x00, //
            0x41, 0xff, 0xff, 0xff, 0xff, 0x7f, //
            0x28, 0x02, 0x84, 0x80, 0x80, 0x80, 0x00, //
            0x0b,
        ];
        let read = ours(&code).expect("reads");
        assert_eq!(read, reference(&code));
        assert_eq!(read[0].0, Op::LocalGet(1));
        assert_eq!(read[1].0, Op::I32Const(-1));
        assert_eq!(read[2].0, Op::I32Load(4));
    }

    #[test]
    fn refuses_what_it_does_not_read_by_name() {
        let cases: [(&[u8], &str); 9] = [
            (&[0xfd, 0x0c], "SIMD"),                   // v128.const
            (&[0xfb, 0x00, 0x01], "GC"),               // struct.new 1
            (&[0xfc, 0x13, 0x0b], "0xfc"),             // past table.fill
            (&[0xfe, 0x04, 0x0b], "0xfe"),             // no such atomic
            (&[0xfe, 0x03, 0x01], "fence"),            // atomic.fence's byte
            (&[0xc5, 0x0b], "opcode 0xc5"),            // unassigned
            (&[0xd0, 0x65, 0x70], "type prefix 0x65"), // ref.null (shared func)
            (&[0x1f, 0x40, 0x01, 0x04, 0x00], "catch kind"),
            (&[0x03, 0x65, 0x6e, 0x0b], "type prefix 0x65"), // loop (shared anyref)
        ];
        for (code, what) in cases {
            let err = ours(code).expect_err(what);
            assert!(err.contains(what), "{what}: {err}");
            assert!(err.contains("stream offset"), "{err}");
        }
    }

    #[test]
    fn refuses_integers_too_long_or_too_large() {
        for code in [
            &[0x20, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00][..], // u32 in 6 bytes
            &[0x20, 0x80, 0x80, 0x80, 0x80, 0x10][..],       // u32 over 32 bits
            &[0x41, 0x80, 0x80, 0x80, 0x80, 0x08][..],       // i32 over 32 bits
            &[0x41, 0xff, 0xff, 0xff, 0xff, 0x4f][..],       // i32, bad sign bits
        ] {
            assert!(ours(code).is_err(), "{code:x?}");
        }
    }

    #[test]
    fn every_truncated_body_is_an_error_not_a_panic() {
        let code = encode(&every_instruction());
        let whole = ours(&code).expect("whole body");
        let ends: std::collections::HashSet<usize> =
            whole.iter().map(|&(_, _, end)| end - 1).collect();
        for cut in 0..code.len() {
            match ours(&code[..cut]) {
                // A cut between two instructions reads the ones before it.
                Ok(read) => assert!(cut == 0 || ends.contains(&cut), "cut {cut}: {read:?}"),
                Err(e) => assert!(e.contains("end of function body"), "cut {cut}: {e}"),
            }
        }
    }
}
