//! The engine: compiling, instantiating and placing label functions in the
//! calling thread's `WebAssembly.Table`. In the wasm build this is the
//! Emscripten JS library `emscripten/atomvm_wasm_jit.js`, reached through
//! the few imports below behind safe wrappers. Natively (tests, fuzzing) a
//! fake engine validates with wasmparser and keeps a per-thread fake table,
//! so that the registry's logic runs and is checked without JavaScript.
//!
//! Every function here acts on the calling thread's table only.
//!
//! The JavaScript side keeps, per thread, only the modules placed in that
//! thread's table, each under its id with its own range, and commits that
//! record last, after everything that can fail: a call that fails (or that an
//! exception interrupts) leaves nothing behind. [`register`] of an id already
//! placed returns its placement, and [`release`] of an id not placed does
//! nothing, so the registry may retry either after an exception.

/// Where a module's label functions sit in this thread's table:
/// label `l` is at `base + l`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    pub base: u32,
    pub len: u32,
}

pub use imp::{register, release, thread_start, validate};

use std::sync::atomic::{AtomicU16, AtomicU32, AtomicU8, Ordering};

/// The rewrites a program can switch off: each one's bit in the masks
/// below and its name in `ATOMVM_WASM_JIT_OFF`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rewrite {
    /// Tail-linked jumps (if the engine supports tail calls).
    TailCalls = 1,
    /// Primitives called through imports bound at instantiation (and no
    /// table import).
    DirectPrimitives = 2,
    /// Returns within a module without the dispatch loop (with tail calls).
    ComputedJumps = 4,
    /// Imported BIFs read in the module instead of `get_imported_bif`
    /// (when the shim knows AtomVM's layout).
    ImportedBifs = 8,
    /// `+`, `-`, `band`, `bor`, `bxor` and `bsr` of small integers
    /// answered in the module (when the shim knows AtomVM's BIFs).
    SmallIntBifs = 16,
    /// `trim_live_regs` called only when the process has extended x
    /// registers (when the shim knows AtomVM's layout).
    TrimLiveRegs = 32,
    /// `term_compare` of equal words, small integers and atoms already
    /// compared answered in the module (when the shim knows AtomVM's term
    /// encoding).
    ImmediateCompares = 64,
    /// Stack frames made and dropped in the module when no garbage
    /// collection is due (when the shim knows AtomVM's heap layout).
    StackFrames = 128,
    /// Small integers and atoms found among a map's immediate keys in the
    /// module (when the shim knows AtomVM's term encoding and map layout).
    MapLookups = 256,
    /// The value of one small integer or atom key of a map replaced in the
    /// module (when the shim knows AtomVM's heap layout and map updates).
    MapUpdates = 512,
    /// Atom constants read in the module instead of
    /// `module_get_atom_term_by_id` (when the shim knows AtomVM's layout).
    AtomTerms = 1024,
    /// `test_heap` answered, and tuples made, in the module when no
    /// garbage collection is due (when the shim knows AtomVM's heap).
    HeapAllocs = 2048,
}

impl Rewrite {
    pub const ALL: [Rewrite; 12] = [
        Rewrite::TailCalls,
        Rewrite::DirectPrimitives,
        Rewrite::ComputedJumps,
        Rewrite::ImportedBifs,
        Rewrite::SmallIntBifs,
        Rewrite::TrimLiveRegs,
        Rewrite::ImmediateCompares,
        Rewrite::StackFrames,
        Rewrite::MapLookups,
        Rewrite::MapUpdates,
        Rewrite::AtomTerms,
        Rewrite::HeapAllocs,
    ];

    /// Its name in `ATOMVM_WASM_JIT_OFF`.
    pub const fn name(self) -> &'static str {
        match self {
            Rewrite::TailCalls => "tail_calls",
            Rewrite::DirectPrimitives => "direct_primitives",
            Rewrite::ComputedJumps => "computed_jumps",
            Rewrite::ImportedBifs => "imported_bifs",
            Rewrite::SmallIntBifs => "small_int_bifs",
            Rewrite::TrimLiveRegs => "trim_live_regs",
            Rewrite::ImmediateCompares => "immediate_compares",
            Rewrite::StackFrames => "stack_frames",
            Rewrite::MapLookups => "map_lookups",
            Rewrite::MapUpdates => "map_updates",
            Rewrite::AtomTerms => "atom_terms",
            Rewrite::HeapAllocs => "heap_allocs",
        }
    }

    const fn bit(self) -> u16 {
        self as u16
    }
}

/// The rewrites the program switched off through [`set`].
static UNWANTED: AtomicU16 = AtomicU16::new(0);
/// Whether the engine runs `return_call`: 0 not asked yet, 1 yes, 2 no.
static TAIL_CALLS: AtomicU8 = AtomicU8::new(0);

/// Whether modules loaded from now on get `rewrite` (where it applies: see
/// [`Rewrite`]). All are on by default; modules already loaded keep theirs.
pub fn set(rewrite: Rewrite, on: bool) {
    if on {
        UNWANTED.fetch_and(!rewrite.bit(), Ordering::Relaxed);
    } else {
        UNWANTED.fetch_or(rewrite.bit(), Ordering::Relaxed);
    }
}

/// Whether the engine supports tail calls, asked once.
pub fn tail_calls_supported() -> bool {
    match TAIL_CALLS.load(Ordering::Relaxed) {
        1 => true,
        2 => false,
        _ => {
            let yes = imp::engine_has_tail_calls();
            TAIL_CALLS.store(if yes { 1 } else { 2 }, Ordering::Relaxed);
            yes
        }
    }
}

/// Rewrites the environment switches off ([`Rewrite`] bits); [`ASKED`]
/// once asked.
const ASKED: u16 = 0x8000;
static SWITCHED_OFF: AtomicU16 = AtomicU16::new(0);

/// The rewrites switched off by `ATOMVM_WASM_JIT_OFF` (node's environment,
/// or the process's natively): a comma-separated list of [`Rewrite`]
/// names. Read once.
fn switched_off() -> u16 {
    let v = SWITCHED_OFF.load(Ordering::Relaxed);
    if v & ASKED != 0 {
        return v;
    }
    let list = imp::env_var("ATOMVM_WASM_JIT_OFF").unwrap_or_default();
    let mut mask = ASKED;
    for name in list.split(',').map(str::trim) {
        if let Some(r) = Rewrite::ALL.iter().find(|r| r.name() == name) {
            mask |= r.bit();
        }
    }
    SWITCHED_OFF.store(mask, Ordering::Relaxed);
    mask
}

/// How to rewrite modules for this program and engine.
pub fn rewrite_options() -> crate::rewrite::Options {
    let off = switched_off() | UNWANTED.load(Ordering::Relaxed);
    let on = |r: Rewrite| off & r.bit() == 0;
    crate::rewrite::Options {
        shared_memory: cfg!(target_feature = "atomics"),
        tail_calls: on(Rewrite::TailCalls) && tail_calls_supported(),
        direct_primitives: on(Rewrite::DirectPrimitives) && imp::native_interface() != 0,
        computed_jumps: on(Rewrite::ComputedJumps),
        imported_bifs: on(Rewrite::ImportedBifs).then(imp::bif_layout).flatten(),
        atom_terms: on(Rewrite::AtomTerms).then(imp::atom_layout).flatten(),
        small_int_bifs: on(Rewrite::SmallIntBifs)
            .then(imp::small_int_bifs)
            .flatten(),
        trim_live_regs: on(Rewrite::TrimLiveRegs)
            .then(imp::extended_x_regs_offset)
            .flatten(),
        immediate_compares: on(Rewrite::ImmediateCompares) && imp::term_compare_known(),
        stack_frames: on(Rewrite::StackFrames).then(imp::heap_layout).flatten(),
        heap_allocs: on(Rewrite::HeapAllocs).then(imp::heap_bounds).flatten(),
        map_lookups: on(Rewrite::MapLookups) && imp::map_lookup_known(),
        map_get_bif: on(Rewrite::MapLookups).then(imp::map_get_bif).flatten(),
        map_updates: (on(Rewrite::MapUpdates) && imp::map_update_known())
            .then(imp::heap_layout)
            .flatten(),
    }
}

/// [`set_tier_up`]'s value for the default: a module is hot after one
/// look-up on one thread per [`AUTO_BYTES_PER_LOOK_UP`] bytes of its wasm
/// (at least [`AUTO_MIN_LOOK_UPS`]).
///
/// The count grows with the size because the rewrite's cost does, while
/// what a look-up of a module running as it came loses against the
/// rewritten module depends on its code, not its size: in AtomVM's
/// benchmark set it is from tens of nanoseconds (a jump) to microseconds
/// (a map update). With one look-up per 8 bytes, the `maps` module of the
/// standard library (36 KB) is rewritten during the first map-heavy run,
/// and the JIT compiler's large modules, which a browser page runs for a
/// few thousand look-ups while it starts, never are.
pub const TIER_UP_AUTO: u32 = u32::MAX;
/// See [`TIER_UP_AUTO`].
pub const AUTO_BYTES_PER_LOOK_UP: usize = 8;
/// See [`TIER_UP_AUTO`].
pub const AUTO_MIN_LOOK_UPS: u32 = 64;

/// [`tier_up_setting`]'s answer, or `NOT_ASKED`.
static TIER_UP: AtomicU32 = AtomicU32::new(NOT_ASKED);
const NOT_ASKED: u32 = u32::MAX - 1;
/// The largest exact count (above it, the two values above).
const MAX_EXACT: u32 = u32::MAX - 2;

/// When modules loaded from now on are rewritten: 0, at load (each is
/// validated, rewritten, and placed rewritten); n, once a thread has
/// looked labels of the module up n times; [`TIER_UP_AUTO`] (the default),
/// after a count that grows with the module's size ([`tier_up_after`]).
/// Loaded cold (not 0), a module is placed as it came, with its imports
/// adapted, and validated by being placed on the loading thread; the
/// thread that finds it hot rewrites it, and every thread that finds it
/// hot from then on places the rewritten module. Set by [`set_tier_up`],
/// else by `ATOMVM_WASM_JIT_TIER_UP` (a count or `auto`; node's
/// environment, or the process's natively).
pub fn tier_up_setting() -> u32 {
    let v = TIER_UP.load(Ordering::Relaxed);
    if v != NOT_ASKED {
        return v;
    }
    let n = imp::env_var("ATOMVM_WASM_JIT_TIER_UP")
        .and_then(|v| parse_tier_up(&v))
        .unwrap_or(TIER_UP_AUTO);
    // A concurrent `set_tier_up` wins.
    let _ = TIER_UP.compare_exchange(NOT_ASKED, n, Ordering::Relaxed, Ordering::Relaxed);
    TIER_UP.load(Ordering::Relaxed)
}

/// `ATOMVM_WASM_JIT_TIER_UP`'s value: `auto`, or a count (capped); `None`
/// (the default) for anything else.
fn parse_tier_up(v: &str) -> Option<u32> {
    let v = v.trim();
    if v.eq_ignore_ascii_case("auto") {
        return Some(TIER_UP_AUTO);
    }
    v.parse::<u64>()
        .ok()
        .map(|n| u32::try_from(n).unwrap_or(u32::MAX).min(MAX_EXACT))
}

/// The number of look-ups on one thread after which a module of
/// `wasm_len` bytes, loaded with `setting` (not 0), is hot.
pub fn tier_up_after(setting: u32, wasm_len: usize) -> u32 {
    if setting != TIER_UP_AUTO {
        return setting;
    }
    let n = wasm_len / AUTO_BYTES_PER_LOOK_UP;
    u32::try_from(n)
        .unwrap_or(MAX_EXACT)
        .clamp(AUTO_MIN_LOOK_UPS, MAX_EXACT)
}

/// Sets [`tier_up_setting`] for modules loaded from now on: 0, n (at most
/// `u32::MAX - 2`), or [`TIER_UP_AUTO`].
pub fn set_tier_up(after: u32) {
    let v = if after == TIER_UP_AUTO {
        after
    } else {
        after.min(MAX_EXACT)
    };
    TIER_UP.store(v, Ordering::Relaxed);
}

/// The per-thread trampoline module's bytes.
#[cfg(target_os = "emscripten")]
fn trampolines() -> &'static [u8] {
    &crate::rewrite::TRAMPOLINES
}

#[cfg(target_os = "emscripten")]
mod imp {
    use super::Placement;
    use crate::error::{Error, ErrorKind, Result};
    use libc::c_char;

    extern "C" {
        fn atomvm_wasm_jit_js_validate(
            wasm: *const u8,
            len: usize,
            err: *mut c_char,
            err_len: usize,
        ) -> i32;
        fn atomvm_wasm_jit_js_register(
            id: u32,
            wasm: *const u8,
            len: usize,
            num_entries: u32,
            as_it_came: i32,
            native_interface: usize,
            trampolines: *const u8,
            trampolines_len: usize,
            err: *mut c_char,
            err_len: usize,
        ) -> i32;
        fn atomvm_wasm_jit_js_release(id: u32);
        fn atomvm_wasm_jit_js_thread_start() -> i32;
        fn atomvm_wasm_jit_js_tail_calls() -> i32;
        /// Defined by `c_shim/`: AtomVM's `&module_native_interface`.
        fn atomvm_wasm_jit_native_interface() -> *const libc::c_void;
        /// Defined by `c_shim/`: where `get_imported_bif` reads, if the
        /// interface's entry answered the shim's probe as expected.
        fn atomvm_wasm_jit_imported_bif_layout(out: *mut u32) -> bool;
        /// Defined by `c_shim/`: `offsetof(Module,
        /// local_atoms_to_global_table)`, if AtomVM's entry 3 answered the
        /// shim's probe as reading it does.
        fn atomvm_wasm_jit_atom_layout(out: *mut u32) -> bool;
        /// Defined by `c_shim/`: the function pointers of AtomVM's
        /// `erlang:'+'/2`, `'-'/2`, `'band'/2`, `'bor'/2`, `'bxor'/2` and
        /// `'bsr'/2`, if each answered the shim's probe of small integers
        /// as expected.
        fn atomvm_wasm_jit_small_int_bifs(out: *mut u32) -> bool;
        /// Defined by `c_shim/`: `offsetof(Context, extended_x_regs)`, if
        /// the interface's `trim_live_regs` left a probe with an empty
        /// list untouched; else -1.
        fn atomvm_wasm_jit_extended_x_regs_offset() -> i32;
        /// Defined by `c_shim/`: whether AtomVM's term encoding is the
        /// one `compare.rs` assumes and the interface's `term_compare`
        /// answered the shim's probe of equal words and small integers.
        fn atomvm_wasm_jit_term_compare_known() -> bool;
        /// Defined by `c_shim/`: `offsetof(Context, heap.root)`,
        /// `offsetof(Context, heap.heap_ptr)` and `offsetof(HeapFragment,
        /// next)`, if the interface's `allocate` and `deallocate` made and
        /// dropped a frame on a probe context as expected.
        fn atomvm_wasm_jit_heap_layout(out: *mut u32) -> bool;
        /// Defined by `c_shim/`: `offsetof(Context, heap.heap_start)`,
        /// `.heap_ptr`, `.heap_end` and `HEAP_NEED_GC_SHRINK_THRESHOLD_COEFF`,
        /// if the interface's `test_heap` and `term_alloc_tuple` answered
        /// the shim's probes on a context of its own as expected.
        fn atomvm_wasm_jit_heap_bounds(out: *mut u32) -> bool;
        /// Defined by `c_shim/`: whether AtomVM's term encoding and map
        /// layout are the ones `maps.rs` assumes and the interface's
        /// `term_find_map_pos` answered the shim's probe of a map.
        fn atomvm_wasm_jit_map_lookup_known() -> bool;
        /// Defined by `c_shim/`: the function pointer of AtomVM's
        /// `erlang:map_get/2`, if it answered the shim's probe of a map.
        fn atomvm_wasm_jit_map_get_bif(out: *mut u32) -> bool;
        /// Defined by `c_shim/`: whether AtomVM's term encoding and map
        /// layout are the ones `map_updates.rs` assumes and the
        /// interface's `jit_put_map_assoc` answered the shim's probe of an
        /// update of one key on a heap of its own.
        fn atomvm_wasm_jit_map_update_known() -> bool;
    }

    /// The answer of a shim function that fills `N` u32s and says whether
    /// it knows them, asked once and kept in `cell`.
    ///
    /// # Safety
    /// `shim` writes at most `N` u32s at its argument and reads nothing of
    /// ours (each of the shim's layout functions, with its own `N`).
    unsafe fn ask_once<const N: usize>(
        cell: &'static std::sync::OnceLock<Option<[u32; N]>>,
        shim: unsafe extern "C" fn(*mut u32) -> bool,
    ) -> Option<[u32; N]> {
        *cell.get_or_init(|| {
            let mut out = [0u32; N];
            // SAFETY: `out` has room for the `N` u32s the caller promises
            // `shim` writes at most.
            unsafe { shim(out.as_mut_ptr()) }.then_some(out)
        })
    }

    /// AtomVM's heap layout for making frames, asked of the shim once.
    pub fn heap_layout() -> Option<crate::rewrite::HeapLayout> {
        static LAYOUT: std::sync::OnceLock<Option<[u32; 3]>> = std::sync::OnceLock::new();
        // SAFETY: the shim writes three u32s; it calls AtomVM's entries 5
        // and 9 on a probe of its own.
        let [root, heap_ptr, next] = unsafe { ask_once(&LAYOUT, atomvm_wasm_jit_heap_layout) }?;
        Some(crate::rewrite::HeapLayout {
            root,
            heap_ptr,
            next,
        })
    }

    /// AtomVM's heap bounds for checking the heap and making tuples,
    /// asked of the shim once.
    pub fn heap_bounds() -> Option<crate::rewrite::HeapBounds> {
        static BOUNDS: std::sync::OnceLock<Option<[u32; 4]>> = std::sync::OnceLock::new();
        // SAFETY: the shim writes four u32s; it calls AtomVM's entries 12
        // and 16 on a probe of its own.
        let [start, top, end, shrink_coeff] =
            unsafe { ask_once(&BOUNDS, atomvm_wasm_jit_heap_bounds) }?;
        Some(crate::rewrite::HeapBounds {
            start,
            top,
            end,
            shrink_coeff,
        })
    }

    /// Whether `compare.rs`' facts hold in this AtomVM, asked of the shim
    /// once.
    pub fn term_compare_known() -> bool {
        static KNOWN: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        *KNOWN.get_or_init(|| {
            // SAFETY: no arguments; the shim calls AtomVM's entry 11 on
            // immediates with a probe context of its own.
            unsafe { atomvm_wasm_jit_term_compare_known() }
        })
    }

    /// Whether `maps.rs`' facts hold in this AtomVM, asked of the shim
    /// once.
    pub fn map_lookup_known() -> bool {
        static KNOWN: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        *KNOWN.get_or_init(|| {
            // SAFETY: no arguments; the shim calls AtomVM's entry 49 on a
            // map of its own with immediate keys.
            unsafe { atomvm_wasm_jit_map_lookup_known() }
        })
    }

    /// Whether `map_updates.rs`' facts hold in this AtomVM, asked of the
    /// shim once.
    pub fn map_update_known() -> bool {
        static KNOWN: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        *KNOWN.get_or_init(|| {
            // SAFETY: no arguments; the shim calls AtomVM's entry 63 on a
            // map and a heap of its own.
            unsafe { atomvm_wasm_jit_map_update_known() }
        })
    }

    /// The pointer of AtomVM's `erlang:map_get/2`, asked of the shim once.
    pub fn map_get_bif() -> Option<u32> {
        static BIF: std::sync::OnceLock<Option<[u32; 1]>> = std::sync::OnceLock::new();
        // SAFETY: the shim writes one u32; it calls AtomVM's BIF on a map
        // of its own.
        let [bif] = unsafe { ask_once(&BIF, atomvm_wasm_jit_map_get_bif) }?;
        Some(bif)
    }

    /// Where AtomVM's `trim_live_regs` looks, asked of the shim once.
    pub fn extended_x_regs_offset() -> Option<u32> {
        static OFFSET: std::sync::OnceLock<Option<u32>> = std::sync::OnceLock::new();
        *OFFSET.get_or_init(|| {
            // SAFETY: no arguments; the shim calls AtomVM's entry 7 on a
            // probe context of its own.
            let offset = unsafe { atomvm_wasm_jit_extended_x_regs_offset() };
            u32::try_from(offset).ok()
        })
    }

    /// AtomVM's small-integer BIFs, asked of the shim once.
    pub fn small_int_bifs() -> Option<crate::rewrite::SmallIntBifs> {
        static BIFS: std::sync::OnceLock<Option<[u32; 6]>> = std::sync::OnceLock::new();
        // SAFETY: the shim writes six u32s; it calls the six BIFs on small
        // integers.
        let [add, sub, band, bor, bxor, bsr] =
            unsafe { ask_once(&BIFS, atomvm_wasm_jit_small_int_bifs) }?;
        Some(crate::rewrite::SmallIntBifs {
            add,
            sub,
            band,
            bor,
            bxor,
            bsr,
        })
    }

    /// AtomVM's layout for reading imported BIFs, asked of the shim once.
    pub fn bif_layout() -> Option<crate::rewrite::BifLayout> {
        static LAYOUT: std::sync::OnceLock<Option<[u32; 2]>> = std::sync::OnceLock::new();
        // SAFETY: the shim writes two u32s; it calls AtomVM's entry 8 on a
        // probe of its own.
        let [imported_funcs, bif0_ptr] =
            unsafe { ask_once(&LAYOUT, atomvm_wasm_jit_imported_bif_layout) }?;
        Some(crate::rewrite::BifLayout {
            imported_funcs,
            bif0_ptr,
        })
    }

    /// AtomVM's layout for reading atom constants, asked of the shim once.
    pub fn atom_layout() -> Option<crate::rewrite::AtomLayout> {
        static LAYOUT: std::sync::OnceLock<Option<[u32; 1]>> = std::sync::OnceLock::new();
        // SAFETY: the shim writes one u32; it calls AtomVM's entry 3 on a
        // probe of its own.
        let [local_atoms] = unsafe { ask_once(&LAYOUT, atomvm_wasm_jit_atom_layout) }?;
        Some(crate::rewrite::AtomLayout { local_atoms })
    }

    pub fn engine_has_tail_calls() -> bool {
        // SAFETY: no arguments; asks the engine to validate a tiny module.
        unsafe { atomvm_wasm_jit_js_tail_calls() == 1 }
    }

    /// A variable of node's environment (Emscripten's `getenv` does not see
    /// it); None in a browser.
    pub fn env_var(name: &str) -> Option<String> {
        extern "C" {
            fn atomvm_wasm_jit_js_env(name: *const u8, len: usize, buf: *mut u8, cap: usize)
                -> i32;
        }
        let mut buf = [0u8; 1024];
        // SAFETY: the JS side reads `name.len()` bytes at `name` and writes
        // at most `buf.len()` bytes into `buf`, returning how many, or a
        // negative number if the variable is not set.
        let n = unsafe {
            atomvm_wasm_jit_js_env(name.as_ptr(), name.len(), buf.as_mut_ptr(), buf.len())
        };
        let n = usize::try_from(n).ok().filter(|n| *n <= buf.len())?;
        String::from_utf8(buf[..n].to_vec()).ok()
    }

    pub fn native_interface() -> usize {
        // SAFETY: the shim returns the address of a global, no arguments.
        unsafe { atomvm_wasm_jit_native_interface() as usize }
    }

    const ERR_LEN: usize = 512;

    /// Turns the JS side's status and message buffer into a result.
    fn status(code: i32, buf: &[u8; ERR_LEN]) -> Result<u32> {
        if code >= 0 {
            return Ok(code as u32);
        }
        let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
        let text = String::from_utf8_lossy(&buf[..end]);
        Err(Error::new(kind_of(code), text.into_owned()))
    }

    /// JS status codes: -1 the engine refused the module, -2 a resource ran
    /// out (the table cannot grow, memory), -3 the module does not validate.
    fn kind_of(code: i32) -> ErrorKind {
        match code {
            -2 => ErrorKind::Resource,
            -3 => ErrorKind::BadModule,
            _ => ErrorKind::Engine,
        }
    }

    /// Asks the engine whether `wasm` (at `base` in the stream) validates,
    /// keeping nothing; fails with the engine's message if not.
    pub fn validate(wasm: &[u8], base: usize) -> Result<()> {
        let mut buf = [0u8; ERR_LEN];
        // SAFETY: `wasm` is a live slice for the duration of the call and the
        // JS side only reads `len` bytes from it; `buf` is writable for
        // ERR_LEN bytes and the JS side writes at most that, NUL included.
        let code = unsafe {
            atomvm_wasm_jit_js_validate(wasm.as_ptr(), wasm.len(), buf.as_mut_ptr().cast(), ERR_LEN)
        };
        status(code, &buf).map(|_| ()).map_err(|e| {
            Error::new(
                e.kind(),
                format!("{} (module at stream offset {base})", e.message()),
            )
        })
    }

    /// Compiles and instantiates module `id` on this thread and places its
    /// `num_entries` label functions in this thread's table, in one
    /// contiguous range. Returns the existing placement if already placed.
    /// A module `as_it_came` (loaded cold, not rewritten) imports the
    /// table: it gets this thread's private copy of the program's functions
    /// instead of the table itself, which it only calls primitives through
    /// (every instance importing the table slows down each growth of the
    /// table, and V8 keeps it alive for as long as the table lives).
    pub fn register(id: u32, wasm: &[u8], num_entries: u32, as_it_came: bool) -> Result<Placement> {
        let mut buf = [0u8; ERR_LEN];
        let tramp = super::trampolines();
        // SAFETY: as in `validate`; `tramp` is a static slice read by the JS
        // side only if this thread has no trampoline instance yet.
        let code = unsafe {
            atomvm_wasm_jit_js_register(
                id,
                wasm.as_ptr(),
                wasm.len(),
                num_entries,
                i32::from(as_it_came),
                native_interface(),
                tramp.as_ptr(),
                tramp.len(),
                buf.as_mut_ptr().cast(),
                ERR_LEN,
            )
        };
        status(code, &buf).map(|base| Placement {
            base,
            len: num_entries,
        })
    }

    /// Forgets module `id` on this thread: clears its table range, if placed,
    /// for reuse, and drops its instance.
    pub fn release(id: u32) {
        // SAFETY: a plain integer; the JS side tolerates unknown ids.
        unsafe { atomvm_wasm_jit_js_release(id) }
    }

    /// This thread uses the runtime for the first time: drops what an
    /// earlier thread on the same worker left in its table.
    pub fn thread_start() {
        // SAFETY: no arguments.
        unsafe {
            atomvm_wasm_jit_js_thread_start();
        }
    }
}

#[cfg(not(target_os = "emscripten"))]
mod imp {
    //! The fake engine: a per-thread table of `(module id, label)` entries,
    //! allocated the way the JS library allocates (first fit, else grow), and
    //! the modules placed in it. Like the JS side it commits a placement
    //! last, and it checks, on every call, the registry's promise never to
    //! call the engine while holding its thread-local state or its lock (a
    //! JavaScript exception would leave them held for good).
    use super::Placement;
    use crate::error::{Error, ErrorKind, Result};
    use crate::memory::outside_budget;
    use std::cell::RefCell;
    use std::collections::HashMap;

    #[derive(Default)]
    pub struct FakeTable {
        /// `slots[i]` is `(module id, label)` of the function at index i.
        pub slots: Vec<Option<(u32, u32)>>,
        /// Free ranges `(base, len)`.
        pub free: Vec<(u32, u32)>,
        /// Modules placed on this thread, by id (what the JS side holds).
        pub placed: HashMap<u32, Placement>,
        /// Number of calls into the engine, as the JS counter counts them.
        pub calls: u64,
        /// If set, the table refuses to grow past this many slots.
        pub max_len: Option<u32>,
        /// If set, the next `register` fails with this message (a refusal).
        pub fail_next: Option<String>,
        /// If set, the next `register` panics after growing the table, the
        /// way a JavaScript exception leaves a call midway.
        pub throw_next: bool,
    }

    thread_local! {
        pub static TABLE: RefCell<FakeTable> = RefCell::new(FakeTable::default());
    }

    pub fn engine_has_tail_calls() -> bool {
        true
    }

    pub fn env_var(name: &str) -> Option<String> {
        std::env::var(name).ok()
    }

    /// Natively there is no interface to bind to; pretend there is one so
    /// that the rewriting is exercised (the fake engine only validates).
    pub fn native_interface() -> usize {
        1
    }

    /// Natively, the model's layout, so that the rewrite is exercised.
    pub fn bif_layout() -> Option<crate::rewrite::BifLayout> {
        Some(crate::rewrite::BifLayout::MODEL)
    }

    /// Natively, the model's layout, so that the rewrite is exercised.
    pub fn atom_layout() -> Option<crate::rewrite::AtomLayout> {
        Some(crate::rewrite::AtomLayout::MODEL)
    }

    /// Natively, the model's layout, so that the rewrite is exercised.
    pub fn extended_x_regs_offset() -> Option<u32> {
        Some(crate::rewrite::TRIM_MODEL_OFFSET)
    }

    /// Natively, the model's BIFs, so that the rewrite is exercised.
    pub fn small_int_bifs() -> Option<crate::rewrite::SmallIntBifs> {
        Some(crate::rewrite::SmallIntBifs::MODEL)
    }

    /// Natively, the model's `term_compare` is AtomVM's on immediates, so
    /// that the rewrite is exercised.
    pub fn term_compare_known() -> bool {
        true
    }

    /// Natively, the model's `term_find_map_pos` is AtomVM's on immediate
    /// keys, so that the rewrite is exercised.
    pub fn map_lookup_known() -> bool {
        true
    }

    /// Natively, the model's `jit_put_map_assoc` is AtomVM's on updates of
    /// one immediate key, so that the rewrite is exercised.
    pub fn map_update_known() -> bool {
        true
    }

    /// Natively, the model's `erlang:map_get/2`, so that the rewrite is
    /// exercised.
    pub fn map_get_bif() -> Option<u32> {
        Some(crate::rewrite::MAP_GET_MODEL)
    }

    /// Natively, the model's heap layout, so that the rewrite is exercised.
    pub fn heap_layout() -> Option<crate::rewrite::HeapLayout> {
        Some(crate::rewrite::HeapLayout::MODEL)
    }

    /// Natively, the model's heap bounds, so that the rewrite is exercised.
    pub fn heap_bounds() -> Option<crate::rewrite::HeapBounds> {
        Some(crate::rewrite::HeapBounds::MODEL)
    }

    /// What V8 says of `wasm`: wasmparser's validator with the features
    /// JIT modules may use, and V8's own limits.
    pub fn engine_verdict(wasm: &[u8]) -> std::result::Result<(), String> {
        outside_budget::run(|| {
            let mut validator = wasmparser::Validator::new_with_features(crate::module::features());
            validator
                .validate_all(wasm)
                .map(|_| ())
                .map_err(|e| e.message().to_string())?;
            match crate::limits::exceeded(wasm) {
                Some(why) => Err(why),
                None => Ok(()),
            }
        })
    }

    fn entered() {
        assert!(
            crate::registry::engine_may_be_entered(),
            "the registry called the engine while holding its state or lock"
        );
    }

    pub fn validate(wasm: &[u8], base: usize) -> Result<()> {
        entered();
        TABLE.with_borrow_mut(|t| t.calls += 1);
        engine_verdict(wasm).map_err(|why| {
            Error::new(
                ErrorKind::BadModule,
                format!("CompileError: {why} (module at stream offset {base})"),
            )
        })
    }

    /// (The fake engine has no table to copy for modules as they came.)
    pub fn register(
        id: u32,
        wasm: &[u8],
        num_entries: u32,
        _as_it_came: bool,
    ) -> Result<Placement> {
        entered();
        if let Some(p) = TABLE.with_borrow(|t| t.placed.get(&id).copied()) {
            return Ok(p);
        }
        engine_verdict(wasm)
            .map_err(|why| Error::new(ErrorKind::Engine, format!("CompileError: {why}")))?;
        TABLE.with_borrow_mut(|t| {
            t.calls += 1;
            if let Some(why) = t.fail_next.take() {
                return Err(Error::new(ErrorKind::Engine, why));
            }
            if t.slots.is_empty() {
                // Index 0 is the null function pointer, as in Emscripten.
                t.slots.push(None);
            }
            let base = match t.free.iter().position(|(_, len)| *len >= num_entries) {
                Some(i) => {
                    let (base, len) = t.free[i];
                    if len == num_entries {
                        t.free.remove(i);
                    } else {
                        t.free[i] = (base + num_entries, len - num_entries);
                    }
                    base
                }
                None => {
                    let base = t.slots.len() as u32;
                    let new_len = base.checked_add(num_entries);
                    match (new_len, t.max_len) {
                        (Some(n), Some(max)) if n > max => {
                            return Err(Error::new(
                                ErrorKind::Resource,
                                format!(
                                    "RangeError: table cannot grow to {n} entries (maximum {max})"
                                ),
                            ))
                        }
                        (None, _) => {
                            return Err(Error::new(ErrorKind::Resource, "table size overflow"))
                        }
                        _ => {}
                    }
                    t.slots.resize(base as usize + num_entries as usize, None);
                    base
                }
            };
            for label in 0..num_entries {
                t.slots[(base + label) as usize] = Some((id, label));
            }
            let p = Placement {
                base,
                len: num_entries,
            };
            if std::mem::take(&mut t.throw_next) {
                // As an exception would: the work is done, nothing is
                // committed, and the caller never sees a return.
                std::panic::panic_any("simulated JavaScript exception");
            }
            t.placed.insert(id, p);
            Ok(p)
        })
    }

    /// Native threads never share a fake table, so a new one finds it empty;
    /// it is cleared all the same, as the JS side clears a reused worker's.
    pub fn thread_start() {
        entered();
        TABLE.with_borrow_mut(|t| {
            let ids: Vec<u32> = t.placed.keys().copied().collect();
            for id in ids {
                if let Some(p) = t.placed.remove(&id) {
                    for i in p.base..p.base + p.len {
                        t.slots[i as usize] = None;
                    }
                    t.free.push((p.base, p.len));
                }
            }
        });
    }

    pub fn release(id: u32) {
        entered();
        // At thread exit the table may be gone before the registry's state.
        let _ = TABLE.try_with(|t| {
            let mut t = t.borrow_mut();
            t.calls += 1;
            if let Some(p) = t.placed.remove(&id) {
                for i in p.base..p.base + p.len {
                    t.slots[i as usize] = None;
                }
                t.free.push((p.base, p.len));
            }
        });
    }
}

#[cfg(not(target_os = "emscripten"))]
pub use imp::{engine_verdict, FakeTable, TABLE as FAKE_TABLE};

/// Number of calls this thread made into the engine (for tests that prove a
/// path makes none).
pub fn calls_on_this_thread() -> u64 {
    #[cfg(target_os = "emscripten")]
    {
        extern "C" {
            fn atomvm_wasm_jit_js_calls() -> f64;
        }
        // SAFETY: takes no arguments, reads a counter of this thread's JS.
        unsafe { atomvm_wasm_jit_js_calls() as u64 }
    }
    #[cfg(not(target_os = "emscripten"))]
    {
        imp::TABLE.with_borrow(|t| t.calls)
    }
}

/// The content of AtomVM's native interface (its entries are table indices,
/// which change when AtomVM's C code does), for the cache's build key.
pub fn interface_fingerprint() -> Vec<u8> {
    #[cfg(target_os = "emscripten")]
    {
        let base = imp::native_interface() as *const u32;
        let n = crate::rewrite::INTERFACE_ENTRIES as usize;
        (0..n)
            // SAFETY: `native_interface` is the address of AtomVM's
            // `module_native_interface`, a global of `n` function pointers
            // (spec section 2), readable for the program's lifetime.
            .flat_map(|i| unsafe { base.add(i).read_unaligned() }.to_le_bytes())
            .collect()
    }
    #[cfg(not(target_os = "emscripten"))]
    {
        Vec::new()
    }
}

/// The platform's default cache directory and size bound (None: no cache):
/// on node, `ATOMVM_WASM_JIT_CACHE_DIR` or the per-user cache directory,
/// unless `ATOMVM_WASM_JIT_CACHE=off`; in a browser, the IndexedDB-backed
/// directory the JS library mounts. Natively (tests), only the variable.
pub fn default_cache() -> (Option<std::path::PathBuf>, Option<u64>) {
    #[cfg(target_os = "emscripten")]
    {
        extern "C" {
            fn atomvm_wasm_jit_js_cache_max_bytes() -> f64;
        }
        let dir = files::platform_dir();
        // SAFETY: no arguments.
        let max = unsafe { atomvm_wasm_jit_js_cache_max_bytes() };
        (dir, (max >= 1.0).then_some(max as u64))
    }
    #[cfg(not(target_os = "emscripten"))]
    {
        if std::env::var("ATOMVM_WASM_JIT_CACHE").is_ok_and(|v| v == "off") {
            return (None, None);
        }
        let max = std::env::var("ATOMVM_WASM_JIT_CACHE_MAX_BYTES")
            .ok()
            .and_then(|v| v.parse().ok());
        (
            std::env::var_os("ATOMVM_WASM_JIT_CACHE_DIR").map(Into::into),
            max,
        )
    }
}

/// Tells the platform that a cache entry was written (the browser then
/// saves its directory to IndexedDB, later and off this thread).
pub fn cache_written() {
    #[cfg(target_os = "emscripten")]
    {
        extern "C" {
            fn atomvm_wasm_jit_js_cache_written();
        }
        // SAFETY: no arguments; the JS side only schedules work.
        unsafe { atomvm_wasm_jit_js_cache_written() }
    }
}

/// The file operations of the native-code cache ([`crate::cache`]). In the
/// wasm build they are the JS library's, on node's `fs` directly (from any
/// thread), in a browser on Emscripten's file system on the main thread,
/// where the IndexedDB-backed directory is mounted: the C library's file
/// calls are not used, because Rust's view of `struct stat` does not match
/// every Emscripten's. Natively, `std::fs`. Errors are messages.
pub mod files {
    use std::time::SystemTime;

    /// A file of a directory: name, size in bytes, modification time.
    pub struct Listed {
        pub name: String,
        pub len: u64,
        pub modified: SystemTime,
    }

    #[cfg(target_os = "emscripten")]
    pub use imp::platform_dir;
    pub use imp::{list, mkdir_all, read, remove, rename, touch, write_new};

    #[cfg(not(target_os = "emscripten"))]
    mod imp {
        use super::Listed;
        use std::fs;
        use std::io::{ErrorKind, Read, Write};
        use std::path::Path;
        use std::time::SystemTime;

        fn text(e: std::io::Error) -> String {
            e.to_string()
        }

        pub fn mkdir_all(dir: &Path) -> Result<(), String> {
            fs::create_dir_all(dir).map_err(text)
        }

        /// The file's bytes (at most `max` + 1 of them), None if missing.
        pub fn read(path: &Path, max: u64) -> Result<Option<Vec<u8>>, String> {
            let mut file = match fs::File::open(path) {
                Ok(f) => f,
                Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(text(e)),
            };
            let len = file.metadata().map_err(text)?.len().min(max + 1);
            let mut bytes = Vec::new();
            bytes
                .try_reserve_exact(len as usize)
                .map_err(|_| "out of memory".to_string())?;
            Read::take(&mut file, max + 1)
                .read_to_end(&mut bytes)
                .map_err(text)?;
            Ok(Some(bytes))
        }

        /// Creates `path` with `bytes`; false if it exists already.
        pub fn write_new(path: &Path, bytes: &[u8]) -> Result<bool, String> {
            let mut file = match fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
            {
                Ok(f) => f,
                Err(e) if e.kind() == ErrorKind::AlreadyExists => return Ok(false),
                Err(e) => return Err(text(e)),
            };
            match file.write_all(bytes).and_then(|()| file.flush()) {
                Ok(()) => Ok(true),
                Err(e) => {
                    drop(file);
                    let _ = fs::remove_file(path);
                    Err(text(e))
                }
            }
        }

        pub fn rename(from: &Path, to: &Path) -> Result<(), String> {
            fs::rename(from, to).map_err(text)
        }

        pub fn remove(path: &Path) -> Result<(), String> {
            fs::remove_file(path).map_err(text)
        }

        pub fn touch(path: &Path) {
            if let Ok(f) = fs::OpenOptions::new().append(true).open(path) {
                let _ = f.set_modified(SystemTime::now());
            }
        }

        /// The files of `dir` (none if it does not exist).
        pub fn list(dir: &Path) -> Result<Vec<Listed>, String> {
            let items = match fs::read_dir(dir) {
                Ok(items) => items,
                Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
                Err(e) => return Err(text(e)),
            };
            let mut out = Vec::new();
            for item in items.flatten() {
                let Ok(meta) = item.metadata() else { continue };
                if meta.is_file() {
                    out.push(Listed {
                        name: item.file_name().to_string_lossy().into_owned(),
                        len: meta.len(),
                        modified: meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                    });
                }
            }
            Ok(out)
        }
    }

    #[cfg(target_os = "emscripten")]
    mod imp {
        //! One JS function, `atomvm_wasm_jit_js_cache_fs(op, ...)`, in three
        //! imports: run on the calling thread (node), run on the main thread
        //! and waited for (browser: the page's options and the cache's files
        //! are there), or posted to the main thread without waiting (the
        //! browser's changes, see [`crate::mirror`]).
        use super::super::on_node;
        use super::Listed;
        use crate::mirror::{Change, MainThread, Mirror};
        use std::path::Path;
        use std::sync::atomic::{AtomicU32, Ordering};
        use std::sync::Mutex;
        use std::time::{Duration, SystemTime};

        const MKDIR_ALL: i32 = 0;
        const SIZE: i32 = 1;
        const READ: i32 = 2;
        const WRITE_NEW: i32 = 3;
        const RENAME: i32 = 4;
        const REMOVE: i32 = 5;
        const TOUCH: i32 = 6;
        const LIST: i32 = 7;
        const DIR: i32 = 8;
        /// Returned for a missing file (SIZE) or an existing one (WRITE_NEW).
        const NOT_FOUND: f64 = -2.0;
        const EXISTS: f64 = -3.0;

        extern "C" {
            fn atomvm_wasm_jit_js_cache_fs(
                op: i32,
                p1: *const u8,
                l1: usize,
                p2: *const u8,
                l2: usize,
                buf: *mut u8,
                cap: usize,
                msg: *mut u8,
                msg_cap: usize,
            ) -> f64;
            fn atomvm_wasm_jit_js_cache_fs_main(
                op: i32,
                p1: *const u8,
                l1: usize,
                p2: *const u8,
                l2: usize,
                buf: *mut u8,
                cap: usize,
                msg: *mut u8,
                msg_cap: usize,
            ) -> f64;
            fn atomvm_wasm_jit_js_cache_fs_post(
                op: i32,
                p1: *const u8,
                l1: usize,
                p2: *const u8,
                l2: usize,
                buf: *const u8,
                cap: usize,
                done: *mut u32,
            );
        }

        /// A change posted to the main thread, kept (with its copies of the
        /// paths and bytes) until the main thread sets `done`.
        struct Posted {
            done: AtomicU32,
            p1: Vec<u8>,
            p2: Vec<u8>,
            data: Vec<u8>,
        }

        // Boxed: the main thread writes `done` at its address while the
        // list grows and moves its items.
        #[allow(clippy::vec_box)]
        static POSTED: Mutex<Vec<Box<Posted>>> = Mutex::new(Vec::new());

        fn copy(b: &[u8]) -> Result<Vec<u8>, String> {
            let mut v = Vec::new();
            v.try_reserve_exact(b.len())
                .map_err(|_| "out of memory".to_string())?;
            v.extend_from_slice(b);
            Ok(v)
        }

        /// Queues `change` for the main thread without waiting. The changes
        /// the main thread has applied are freed here, at the next post.
        fn post(change: Change<'_>) -> Result<(), String> {
            let (op, p1, p2, data): (i32, &Path, Option<&Path>, &[u8]) = match change {
                Change::MkdirAll(d) => (MKDIR_ALL, d, None, &[]),
                Change::Create(p, data) => (WRITE_NEW, p, None, data),
                Change::Rename(a, b) => (RENAME, a, Some(b), &[]),
                Change::Remove(p) => (REMOVE, p, None, &[]),
                Change::Touch(p) => (TOUCH, p, None, &[]),
            };
            let posted = Box::new(Posted {
                done: AtomicU32::new(0),
                p1: copy(bytes(p1))?,
                p2: copy(p2.map(bytes).unwrap_or_default())?,
                data: copy(data)?,
            });
            let args = {
                let mut list = POSTED.lock().unwrap_or_else(|p| p.into_inner());
                list.retain(|p| p.done.load(Ordering::Acquire) == 0);
                list.try_reserve(1)
                    .map_err(|_| "out of memory".to_string())?;
                list.push(posted);
                let p = list.last().map(|p| &**p).ok_or("not queued")?;
                (
                    p.p1.as_ptr(),
                    p.p1.len(),
                    p.p2.as_ptr(),
                    p.p2.len(),
                    p.data.as_ptr(),
                    p.data.len(),
                    p.done.as_ptr(),
                )
            };
            // SAFETY: the buffers and `done` are owned by the box in
            // POSTED, which is freed only once the main thread has set
            // `done` (release) after its last read of them. The lock is not
            // held across the call.
            unsafe {
                atomvm_wasm_jit_js_cache_fs_post(
                    op, args.0, args.1, args.2, args.3, args.4, args.5, args.6,
                )
            };
            Ok(())
        }

        fn bytes(p: &Path) -> &[u8] {
            p.as_os_str().as_encoded_bytes()
        }

        /// Calls `op`; Ok(result >= 0 or a status) or Err(message).
        fn call(
            op: i32,
            p1: &Path,
            p2: Option<&Path>,
            buf: *mut u8,
            cap: usize,
        ) -> Result<f64, String> {
            let (a, b) = (bytes(p1), p2.map(bytes).unwrap_or_default());
            let mut msg = [0u8; 256];
            let on_node = on_node();
            // SAFETY: the JS side reads `a` and `b` within their lengths,
            // writes at most `cap` bytes at `buf` (a live buffer of the
            // caller's, or NULL with 0) and at most `msg.len()` at `msg`.
            let r = unsafe {
                let f = if on_node {
                    atomvm_wasm_jit_js_cache_fs
                } else {
                    atomvm_wasm_jit_js_cache_fs_main
                };
                f(
                    op,
                    a.as_ptr(),
                    a.len(),
                    b.as_ptr(),
                    b.len(),
                    buf,
                    cap,
                    msg.as_mut_ptr(),
                    msg.len(),
                )
            };
            if r == -1.0 {
                let n = msg.iter().position(|c| *c == 0).unwrap_or(msg.len());
                return Err(String::from_utf8_lossy(&msg[..n]).into_owned());
            }
            Ok(r)
        }

        /// The platform's cache directory, as the JS side decides it (on
        /// node from the environment, in a browser from the page's options
        /// on the main thread; a page's options do not reach its workers).
        /// None: no cache.
        pub fn platform_dir() -> Option<std::path::PathBuf> {
            let mut buf = [0u8; 1024];
            let n = call(DIR, Path::new(""), None, buf.as_mut_ptr(), buf.len()).ok()?;
            let n = usize::try_from(n as i64)
                .ok()
                .filter(|n| *n > 0 && *n <= buf.len())?;
            std::str::from_utf8(&buf[..n]).ok().map(Into::into)
        }

        /// The calls that wait for the main thread, for the browser's
        /// [`Mirror`]; changes are posted without waiting.
        struct Main;

        impl MainThread for Main {
            fn list(&self, dir: &Path) -> Result<Vec<Listed>, String> {
                list_now(dir)
            }
            fn read(&self, path: &Path, len: u64, max: u64) -> Result<Option<Vec<u8>>, String> {
                read_expecting(path, len, max)
            }
            fn post(&self, change: Change<'_>) -> Result<(), String> {
                post(change)
            }
        }

        /// The page's cache directory (browser only; on node the files are
        /// the machine's, shared with other processes, and asked directly).
        static MIRROR: Mirror = Mirror::new();

        pub fn mkdir_all(dir: &Path) -> Result<(), String> {
            if !on_node() {
                return MIRROR.mkdir_all(&Main, dir);
            }
            call(MKDIR_ALL, dir, None, std::ptr::null_mut(), 0).map(drop)
        }

        pub fn read(path: &Path, max: u64) -> Result<Option<Vec<u8>>, String> {
            if !on_node() {
                return MIRROR.read(&Main, path, max);
            }
            read_now(path, max)
        }

        fn read_now(path: &Path, max: u64) -> Result<Option<Vec<u8>>, String> {
            let size = call(SIZE, path, None, std::ptr::null_mut(), 0)?;
            if size == NOT_FOUND {
                return Ok(None);
            }
            let len = (size.max(0.0) as u64).min(max + 1);
            read_into(path, len)
        }

        /// Reads with a buffer one byte larger than the `len` expected: one
        /// call, unless the file has grown.
        fn read_expecting(path: &Path, len: u64, max: u64) -> Result<Option<Vec<u8>>, String> {
            let cap = len.min(max) + 1;
            match read_into(path, cap)? {
                Some(bytes) if bytes.len() as u64 == cap && cap <= max => read_now(path, max),
                other => Ok(other),
            }
        }

        /// At most `len` bytes of the file, None if it does not exist.
        fn read_into(path: &Path, len: u64) -> Result<Option<Vec<u8>>, String> {
            let len = usize::try_from(len).map_err(|_| "too large".to_string())?;
            let mut bytes = Vec::new();
            bytes
                .try_reserve_exact(len)
                .map_err(|_| "out of memory".to_string())?;
            bytes.resize(len, 0);
            let n = call(READ, path, None, bytes.as_mut_ptr(), len)?;
            if n == NOT_FOUND {
                return Ok(None);
            }
            bytes.truncate((n.max(0.0) as usize).min(len));
            Ok(Some(bytes))
        }

        pub fn write_new(path: &Path, data: &[u8]) -> Result<bool, String> {
            if !on_node() {
                return MIRROR.write_new(&Main, path, data);
            }
            let r = call(WRITE_NEW, path, None, data.as_ptr().cast_mut(), data.len())?;
            Ok(r != EXISTS)
        }

        pub fn rename(from: &Path, to: &Path) -> Result<(), String> {
            if !on_node() {
                return MIRROR.rename(&Main, from, to);
            }
            call(RENAME, from, Some(to), std::ptr::null_mut(), 0).map(drop)
        }

        pub fn remove(path: &Path) -> Result<(), String> {
            if !on_node() {
                return MIRROR.remove(&Main, path);
            }
            call(REMOVE, path, None, std::ptr::null_mut(), 0).map(drop)
        }

        pub fn touch(path: &Path) {
            if !on_node() {
                return MIRROR.touch(&Main, path);
            }
            let _ = call(TOUCH, path, None, std::ptr::null_mut(), 0);
        }

        pub fn list(dir: &Path) -> Result<Vec<Listed>, String> {
            if !on_node() {
                return MIRROR.list(&Main, dir);
            }
            list_now(dir)
        }

        /// Lines `name\tsize\tmtime_ms\n`; the JS side returns the length it
        /// needs, and the call is made again with a buffer that large.
        fn list_now(dir: &Path) -> Result<Vec<Listed>, String> {
            let mut buf: Vec<u8> = vec![0; 16 << 10];
            loop {
                let need = call(LIST, dir, None, buf.as_mut_ptr(), buf.len())?;
                let need = need.max(0.0) as usize;
                if need <= buf.len() {
                    buf.truncate(need);
                    break;
                }
                buf = Vec::new();
                buf.try_reserve_exact(need)
                    .map_err(|_| "out of memory".to_string())?;
                buf.resize(need, 0);
            }
            let text = String::from_utf8_lossy(&buf);
            Ok(text
                .lines()
                .filter_map(|line| {
                    let mut f = line.split('\t');
                    let name = f.next()?.to_string();
                    let len = f.next()?.parse().ok()?;
                    let ms: u64 = f.next()?.parse().ok()?;
                    Some(Listed {
                        name,
                        len,
                        modified: SystemTime::UNIX_EPOCH + Duration::from_millis(ms),
                    })
                })
                .collect())
        }
    }
}

/// Whether this program runs under node, asked once.
#[cfg(target_os = "emscripten")]
fn on_node() -> bool {
    extern "C" {
        fn atomvm_wasm_jit_js_on_node() -> i32;
    }
    static NODE: AtomicU8 = AtomicU8::new(0);
    match NODE.load(Ordering::Relaxed) {
        1 => true,
        2 => false,
        _ => {
            // SAFETY: no arguments.
            let yes = unsafe { atomvm_wasm_jit_js_on_node() } == 1;
            NODE.store(if yes { 1 } else { 2 }, Ordering::Relaxed);
            yes
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tier_up_setting_reads_a_count_or_auto() {
        assert_eq!(parse_tier_up("0"), Some(0));
        assert_eq!(parse_tier_up(" 250 "), Some(250));
        assert_eq!(parse_tier_up("AUTO"), Some(TIER_UP_AUTO));
        assert_eq!(parse_tier_up("99999999999"), Some(MAX_EXACT));
        assert_eq!(parse_tier_up("-1"), None);
        assert_eq!(parse_tier_up("soon"), None);
    }

    #[test]
    fn the_automatic_count_is_one_per_eight_bytes_at_least_64() {
        assert_eq!(tier_up_after(TIER_UP_AUTO, 0), AUTO_MIN_LOOK_UPS);
        assert_eq!(tier_up_after(TIER_UP_AUTO, 511), 63.max(AUTO_MIN_LOOK_UPS));
        assert_eq!(tier_up_after(TIER_UP_AUTO, 80_000), 10_000);
        assert_eq!(tier_up_after(TIER_UP_AUTO, usize::MAX), MAX_EXACT);
        assert_eq!(tier_up_after(5, 80_000), 5, "an exact count stays");
    }
}
