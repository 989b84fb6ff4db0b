//! Map lookups of immediate keys answered in the module
//! ([`super::Options::map_lookups`]).
//!
//! AtomVM's generated code finds a key in a map by calling interface entry
//! 49, `term_find_map_pos(ctx, map, key)` (standard type 2): for every
//! `get_map_elements`, `has_map_fields`, and for each key of a
//! `put_map_assoc` or `put_map_exact`. AtomVM 0.7's answer is the first
//! position `i` whose key `term_compare`s equal to `key` (exact), or
//! `TERM_MAP_NOT_FOUND` (-1): a linear scan of the map's keys with one
//! generic comparison per key, each through a temporary stack. The map is
//! a boxed term (`map & ~3` points at its words); word 1 is its keys, a
//! tuple whose word 0 is a header with the arity in its bits 6 and up,
//! followed by the keys.
//!
//! When `key` is a small integer (`(key & 0xF) == 0xF`) or an atom (`(key &
//! 0x3F) == 0x0B`), a key of the map compares equal to it exactly when it
//! is the same word, if that key is an immediate (`(k & 3) == 3`): two
//! immediates of different types are ordered by type, two small integers
//! by value, two atoms by their names (an atom's index is its name). A key
//! that is not an immediate (a boxed or list term, such as an external pid
//! or a big integer) may compare equal to an immediate in ways that need
//! the C.
//!
//! So every bound call of entry 49 goes to one function added to the
//! module, with the entry's type. For such a key it scans the keys itself:
//! the same word answers its position; the end of the keys answers -1; a
//! key that is not an immediate, before either, makes the same call of the
//! bound entry, which scans again from the start. Any other key makes the
//! call at once. On the answered paths the C reads the same words (and
//! `ctx->global`, which it hands to `term_compare`, which reads it only for
//! two atoms of different names) and writes none.
//!
//! The addresses are computed with wrapping `i32.add` and loaded at offset
//! 0, as the model of the differential oracle computes them, so that a map
//! that is not one traps or not alike in both.
//!
//! The C shim hands the facts over only after checking AtomVM's term
//! encoding and map layout in its headers and probing entry 49 with a map
//! of its own. No facts, no rewrite. The module gets the function only if
//! it is detached (the call is bound) and binds entry 49 with that type.
//!
//! `maps:get/2` is `erlang:map_get/2`, a BIF of two arguments that the
//! generated code calls through its pointer: `call_indirect (type 3)` with
//! `(ctx, fail_label, key, map)`, which in a detached module goes through
//! the trampoline `ci.t3`. AtomVM's `bif_erlang_map_get_2` checks that
//! `map` is a map (boxed, its header's low six bits `TERM_BOXED_MAP`,
//! 0x2C), finds the key as entry 49 does, and answers the value at word
//! `2 + position` of the map (or raises `badmap`, `badkey`). So every such call
//! goes to a second function added to the module, `(ctx, fail_label, key,
//! map, pointer) -> term`: when the pointer is that BIF's, the key a small
//! integer or an atom and the map a map, it scans as above and answers the
//! value it finds; otherwise (not found, a key that is not an immediate,
//! another function) it hands the same five values to `ci.t3`. The BIF's
//! pointer comes from the shim, which probes the BIF with its map.

use super::primitives::forward;
use super::{loop_next, mem};
use wasm_encoder::{BlockType, Function, InstructionSink, ValType};

/// Interface entry `term_find_map_pos`.
pub const TERM_FIND_MAP_POS: usize = 49;

/// Standard type 2, `(i32 × 3) -> i32`: entry 49's.
pub const ENTRY_TYPE: u8 = 2;

/// `TERM_MAP_NOT_FOUND`.
pub const NOT_FOUND: i32 = -1;

/// Byte offset of a map's keys in its boxed words
/// (`term_get_map_keys_offset`, one word).
pub const KEYS_OFFSET: u32 = 4;

/// A boxed header's arity is `header >> ARITY_SHIFT`
/// (`term_get_size_from_boxed_header`).
pub const ARITY_SHIFT: u32 = 6;

/// The standard type of a BIF call with two arguments, `(ctx, fail_label,
/// arg1, arg2) -> term`.
pub const BIF2_TYPE: u8 = 3;

/// The pointer of the differential oracle's `map_get` (`oracle::model`):
/// its BIF primitive 64, for tests.
pub const MAP_GET_MODEL: u32 = 1 + 64;

/// `TERM_BOXED_MAP` and the mask of a boxed header's tag.
const BOXED_MAP: i32 = 0x2C;
const BOXED_TAG_MASK: i32 = 0x3F;

/// The parameters and locals of the added function.
const MAP: u32 = 1;
const KEY: u32 = 2;
const KEYS: u32 = 3;
const N: u32 = 4;
const I: u32 = 5;
const K: u32 = 6;

/// Pushes whether local `key` is a small integer or an atom.
pub(super) fn small_int_or_atom(ins: &mut InstructionSink<'_>, key: u32) {
    ins.local_get(key)
        .i32_const(0xF)
        .i32_and()
        .i32_const(0xF)
        .i32_eq()
        .local_get(key)
        .i32_const(0x3F)
        .i32_and()
        .i32_const(0x0B)
        .i32_eq()
        .i32_or();
}

/// The scan of the keys of the map whose words start at local `boxed`,
/// for local `key`, with locals `keys`, `n`, `i`, `k`: `found(i)` when
/// the same word is found; `-1` returned at the end if `not_found`, else
/// the scan ends (falls through) there and at a key that is not an
/// immediate.
fn scan(
    ins: &mut InstructionSink<'_>,
    [boxed, key, keys, n, i, k]: [u32; 6],
    not_found: bool,
    found: &dyn Fn(&mut InstructionSink<'_>),
) {
    // keys = boxed[1] & ~3; n = keys[0] >> 6
    ins.local_get(boxed)
        .i32_const(KEYS_OFFSET as i32)
        .i32_add()
        .i32_load(mem(0))
        .i32_const(-4)
        .i32_and()
        .local_tee(keys)
        .i32_load(mem(0))
        .i32_const(ARITY_SHIFT as i32)
        .i32_shr_u()
        .local_set(n)
        .block(BlockType::Empty)
        .loop_(BlockType::Empty)
        // i == n: not found
        .local_get(i)
        .local_get(n)
        .i32_eq();
    if not_found {
        ins.if_(BlockType::Empty)
            .i32_const(NOT_FOUND)
            .return_()
            .end();
    } else {
        ins.br_if(1);
    }
    // k = keys[1 + i]: the same word is found
    ins.local_get(keys)
        .i32_const(4)
        .i32_add()
        .local_get(i)
        .i32_const(2)
        .i32_shl()
        .i32_add()
        .i32_load(mem(0))
        .local_tee(k)
        .local_get(key)
        .i32_eq()
        .if_(BlockType::Empty);
    found(ins);
    ins.return_()
        .end()
        // not an immediate: the C decides
        .local_get(k)
        .i32_const(3)
        .i32_and()
        .i32_const(3)
        .i32_ne()
        .br_if(1);
    loop_next(ins, i);
}

/// The added function's body (size-prefixed, as in the code section):
/// parameters `(ctx, map, key)`, the scan, then the call of `entry` (the
/// import bound to entry 49), a `return_call` if `tail`.
pub fn function(entry: u32, tail: bool) -> Vec<u8> {
    const BOXED: u32 = 7;
    let mut f = Function::new([(5, ValType::I32)]);
    let mut ins = f.instructions();
    small_int_or_atom(&mut ins, KEY);
    ins.if_(BlockType::Empty)
        .local_get(MAP)
        .i32_const(-4)
        .i32_and()
        .local_set(BOXED);
    scan(&mut ins, [BOXED, KEY, KEYS, N, I, K], true, &|ins| {
        ins.local_get(I);
    });
    ins.end();
    forward(&mut ins, 3, entry, tail);
    ins.end();
    super::added_body(&f)
}

/// `map_get`'s function (size-prefixed): parameters `(ctx, fail_label,
/// key, map, pointer)`, the scan if the pointer is `bif`, then the call
/// through trampoline function `t3` (a `return_call` if `tail`).
pub fn map_get(bif: u32, t3: u32, tail: bool) -> Vec<u8> {
    const KEY: u32 = 2;
    const MAP: u32 = 3;
    const P: u32 = 4;
    const BOXED: u32 = 5;
    const KEYS: u32 = 6;
    const N: u32 = 7;
    const I: u32 = 8;
    const K: u32 = 9;
    let mut f = Function::new([(5, ValType::I32)]);
    let mut ins = f.instructions();
    ins.local_get(P).i32_const(bif as i32).i32_eq();
    small_int_or_atom(&mut ins, KEY);
    ins.i32_and()
        // a boxed term whose header says map
        .local_get(MAP)
        .i32_const(3)
        .i32_and()
        .i32_const(2)
        .i32_eq()
        .i32_and()
        .if_(BlockType::Empty)
        .local_get(MAP)
        .i32_const(-4)
        .i32_and()
        .local_tee(BOXED)
        .i32_load(mem(0))
        .i32_const(BOXED_TAG_MASK)
        .i32_and()
        .i32_const(BOXED_MAP)
        .i32_eq()
        .if_(BlockType::Empty);
    // the value: boxed[2 + i]
    scan(&mut ins, [BOXED, KEY, KEYS, N, I, K], false, &|ins| {
        ins.local_get(BOXED)
            .i32_const(8)
            .i32_add()
            .local_get(I)
            .i32_const(2)
            .i32_shl()
            .i32_add()
            .i32_load(mem(0));
    });
    ins.end().end();
    forward(&mut ins, P + 1, t3, tail);
    ins.end();
    super::added_body(&f)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use wasm_encoder::{
        CodeSection, EntityType, ExportKind, ExportSection, FunctionSection, ImportSection,
        MemoryType, Module, TypeSection,
    };
    use wasmi::{Caller, Engine, Instance, Linker, Memory, Store};

    /// An instance of a module importing the fallback `import` (`params`
    /// i32s to an i32; it counts its calls in the store and answers 77) and
    /// a memory, and defining `body` (the added function, with the same
    /// type) as export `f`.
    pub(crate) fn instance(
        body: &[u8],
        import: (&str, &str),
        params: usize,
    ) -> (Store<u32>, Instance, Memory) {
        let mut types = TypeSection::new();
        types
            .ty()
            .function(vec![ValType::I32; params], [ValType::I32]);
        let mut imports = ImportSection::new();
        imports.import(import.0, import.1, EntityType::Function(0));
        let memory = MemoryType {
            minimum: 1,
            maximum: None,
            memory64: false,
            shared: false,
            page_size_log2: None,
        };
        imports.import("m", "memory", EntityType::Memory(memory));
        let mut functions = FunctionSection::new();
        functions.function(0);
        let mut exports = ExportSection::new();
        exports.export("f", ExportKind::Func, 1);
        let mut reader = wasmparser::BinaryReader::new(body, 0);
        let len = reader.read_var_u32().expect("size prefix") as usize;
        let mut code = CodeSection::new();
        code.raw(&body[body.len() - len..]);
        let mut module = Module::new();
        module
            .section(&types)
            .section(&imports)
            .section(&functions)
            .section(&exports)
            .section(&code);
        let bytes = module.finish();
        let engine = Engine::default();
        let m = wasmi::Module::new(&engine, &bytes[..]).expect("valid");
        let mut store = Store::new(&engine, 0u32);
        let mem = Memory::new(&mut store, wasmi::MemoryType::new(1, None)).expect("memory");
        let mut linker = Linker::new(&engine);
        let ty = wasmi::FuncType::new(vec![wasmi::ValType::I32; params], [wasmi::ValType::I32]);
        linker
            .func_new(
                import.0,
                import.1,
                ty,
                |mut c: Caller<'_, u32>, _, results| {
                    *c.data_mut() += 1;
                    results[0] = wasmi::Val::I32(77);
                    Ok(())
                },
            )
            .expect("import");
        linker.define("m", "memory", mem).expect("memory");
        let instance = linker
            .instantiate_and_start(&mut store, &m)
            .expect("instance");
        (store, instance, mem)
    }

    /// Lays out a map at 0x100 (keys' tuple at 0x200) with `keys`.
    pub(crate) fn map(store: &mut Store<u32>, mem: Memory, keys: &[u32]) -> i32 {
        let mut put = |at: usize, v: u32| {
            mem.data_mut(&mut *store)[at..at + 4].copy_from_slice(&v.to_le_bytes())
        };
        put(0x100, ((1 + keys.len() as u32) << 6) | 0x2C);
        put(0x104, 0x200 | 2);
        put(0x200, (keys.len() as u32) << 6);
        for (i, k) in keys.iter().enumerate() {
            put(0x204 + 4 * i, *k);
        }
        0x102
    }

    /// (answer, calls of the entry) for `key`.
    fn find(keys: &[u32], key: u32) -> (i32, u32) {
        let (mut store, instance, mem) = instance(&function(0, false), ("p", "f"), 3);
        let f = instance
            .get_typed_func::<(i32, i32, i32), i32>(&store, "f")
            .expect("f");
        let m = map(&mut store, mem, keys);
        let r = f.call(&mut store, (0x40, m, key as i32)).expect("no trap");
        (r, *store.data())
    }

    /// `map_get`'s (answer, calls of `ci.t3`) for `key` in a map of `keys`
    /// (values 0x100 + position) with header `header`, through `pointer`.
    fn get(keys: &[u32], header: u32, key: u32, pointer: i32) -> (i32, u32) {
        let (mut store, instance, mem) = instance(&map_get(9, 0, false), ("ci", "t3"), 5);
        let f = instance
            .get_typed_func::<(i32, i32, i32, i32, i32), i32>(&store, "f")
            .expect("f");
        let m = map(&mut store, mem, keys);
        for (i, _) in keys.iter().enumerate() {
            let at = 0x108 + 4 * i;
            mem.data_mut(&mut store)[at..at + 4].copy_from_slice(&(0x100 + i as u32).to_le_bytes());
        }
        mem.data_mut(&mut store)[0x100..0x104].copy_from_slice(&header.to_le_bytes());
        let r = f
            .call(&mut store, (0x40, 0, key as i32, m, pointer))
            .expect("no trap");
        (r, *store.data())
    }

    #[test]
    fn map_get_answers_found_immediate_keys_in_the_module() {
        let keys = [0x1F, 0x4B, 0x6002, 0x2F];
        let map_header = (5 << 6) | 0x2C;
        assert_eq!(get(&keys, map_header, 0x1F, 9), (0x100, 0));
        assert_eq!(get(&keys, map_header, 0x4B, 9), (0x101, 0));
        // Past a boxed key, not found, another key type: the C.
        assert_eq!(get(&keys, map_header, 0x2F, 9), (77, 1));
        assert_eq!(get(&[0x1F], map_header, 0x2F, 9), (77, 1));
        assert_eq!(get(&keys, map_header, 0x3B, 9), (77, 1));
        // Another function, or a tuple where the map should be: the C.
        assert_eq!(get(&keys, map_header, 0x1F, 8), (77, 1));
        assert_eq!(get(&keys, 4 << 6, 0x1F, 9), (77, 1));
    }

    #[test]
    fn immediate_keys_are_found_in_the_module() {
        let keys = [0x1F, 0x4B, 0xFFFF_FFFF, 0x3B, 0x13, 0x8000_000F];
        assert_eq!(find(&keys, 0x1F), (0, 0));
        assert_eq!(find(&keys, 0x4B), (1, 0));
        assert_eq!(find(&keys, 0xFFFF_FFFF), (2, 0));
        assert_eq!(find(&keys, 0x8000_000F), (5, 0));
        // Not found: small integers and atoms of other values.
        assert_eq!(find(&keys, 0x2F), (NOT_FOUND, 0));
        assert_eq!(find(&keys, 0x8B), (NOT_FOUND, 0));
        assert_eq!(find(&[], 0x1F), (NOT_FOUND, 0));
    }

    #[test]
    fn other_keys_and_boxed_keys_go_to_the_entry() {
        let keys = [0x1F, 0x6002, 0x4B];
        // Found before the boxed key: answered.
        assert_eq!(find(&keys, 0x1F), (0, 0));
        // After it, or not found past it: the C decides.
        assert_eq!(find(&keys, 0x4B), (77, 1));
        assert_eq!(find(&keys, 0x2F), (77, 1));
        // A list key too.
        assert_eq!(find(&[0x6001, 0x1F], 0x1F), (77, 1));
        // Keys that are neither small integers nor atoms: nil, a pid, a
        // boxed term, even when the same word is a key.
        for key in [0x3B, 0x13, 0x6002] {
            assert_eq!(find(&[key], key), (77, 1), "{key:#x}");
        }
    }
}
