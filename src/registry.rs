//! The registry: which modules are loaded (one list for the process) and
//! where their label functions sit in each thread's table (per thread).
//!
//! A module's handle (`native_code` in AtomVM) is its [`ModuleId`], a number
//! never reused, so a released or made-up handle is recognised as such
//! instead of being dereferenced.
//!
//! Threads. Each thread has its own table (spec section 7), so placement is
//! per thread and lazy: the first lookup of a module on a thread instantiates
//! it there. Releasing a module removes it from the global list and bumps
//! [`RELEASE_EPOCH`]; every thread compares the epoch with the one it last
//! saw before answering a lookup from its cache, and on a change frees its
//! own slots of every module no longer live before it answers or places
//! anything. So no slot of a released module resolves again on any thread,
//! and a slot is only reused after the module in it was removed.
//!
//! The hot path — a lookup of a module already placed on this thread — is a
//! probe of a thread-local cache line, an atomic load of the epoch the line
//! must have been filled at, and a count down: no lock, no call into
//! JavaScript.
//!
//! Tiers. A module loaded cold ([`engine::tier_up_setting`] not 0) is placed
//! as it came, with its imports adapted: loading it costs a copy, not the
//! rewrite. Each thread counts its look-ups of the module (in the cache
//! line, [`LEFT`]); when the count runs out, the thread rewrites the module
//! (once for the process: the result is kept with the module) and places
//! the rewritten module beside the first, under the engine id
//! `id | HOT_ID`, and its look-ups answer from it from then on. The label
//! functions of both behave the same (the rewrites are exact), so a
//! function of the first that is still running, or an index of it that the
//! VM still holds, goes on working: the first placement stays until the
//! module is released, when both are.
//!
//! Calls into JavaScript. An exception may pass through any of them (a
//! stack overflow deep in a recursion that the embedder catches), and wasm
//! does not unwind: nothing after the call runs. So the registry never holds
//! this thread's state borrowed, nor the global lock, across an engine call,
//! and records its intent before the call: a module being placed is entered
//! in this thread's list first, so that a later release tells the engine to
//! drop it whatever happened.

use crate::engine::{self, Placement};
use crate::error::{Error, ErrorKind, Result};
use crate::{memory, module, rewrite, stream};
use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

/// A loaded module's number; also its `native_code` handle. Never 0, never
/// reused within a process.
#[repr(transparent)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ModuleId(u32);

impl ModuleId {
    /// The handle AtomVM stores as `module->native_code`.
    pub fn to_handle(self) -> usize {
        self.0 as usize
    }

    /// The id a handle stands for, if it could be one (not 0, fits in u32).
    pub fn from_handle(handle: usize) -> Option<ModuleId> {
        u32::try_from(handle).ok().filter(|v| *v != 0).map(ModuleId)
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

/// What the runtime keeps of a loaded module.
#[derive(Debug)]
pub struct Loaded {
    /// Number of label functions; labels are `0..num_entries`.
    pub num_entries: u32,
    /// What a thread places first: the rewritten module and what the
    /// rewrites did, or, for a module loaded cold, the module as it came
    /// with its imports adapted (and no rewrite counted).
    pub module: rewrite::Rewritten,
    /// For a module loaded cold: what rewriting it once it is hot needs.
    pub cold: Option<Cold>,
    /// Our copy of the line metadata; empty if the stream had none.
    pub lines: Box<[u8]>,
}

/// A module loaded cold, kept for its rewrite.
#[derive(Debug)]
pub struct Cold {
    /// The module as it came (validated by the engine: placed at load).
    original: Box<[u8]>,
    /// Its offset in its stream, for messages.
    base: usize,
    /// The rewrite options in force when it was loaded.
    opts: rewrite::Options,
    /// Look-ups of it on one thread that make it hot there.
    after: u32,
    /// The rewritten module, once a thread found the module hot; `None`
    /// if the rewrite failed (the module then stays as it came).
    hot: OnceLock<Option<rewrite::Rewritten>>,
}

impl Cold {
    /// The rewritten module, made now if no thread made it yet (a thread
    /// that finds it made by another keeps the other's).
    fn rewritten(&self, num_entries: u32) -> Option<&rewrite::Rewritten> {
        if self.hot.get().is_none() {
            let made = rewrite_cold(&self.original, num_entries, self.base, self.opts)
                .map_err(|e| {
                    crate::error::log(&Error::new(
                        e.kind(),
                        format!("module stays as it came, not rewritten: {}", e.message()),
                    ))
                })
                .ok();
            let _ = self.hot.set(made);
        }
        self.hot.get().and_then(Option::as_ref)
    }

    /// The rewritten module if a thread made it.
    fn made(&self) -> Option<&rewrite::Rewritten> {
        self.hot.get().and_then(Option::as_ref)
    }

    /// Whether a thread tried to rewrite the module (it may have failed).
    pub fn tried(&self) -> bool {
        self.hot.get().is_some()
    }
}

/// The rewrite of a module loaded cold, under the load path's memory
/// rules ([`memory`]).
fn rewrite_cold(
    original: &[u8],
    num_entries: u32,
    base: usize,
    opts: rewrite::Options,
) -> Result<rewrite::Rewritten> {
    memory::reset();
    memory::headroom()?;
    let shape = module::check(original, num_entries, base)?;
    rewrite::rewrite(original, &shape, opts, base)
}

/// The engine id of a module's rewritten placement, beside its first
/// (ids of modules stay below it).
pub const HOT_ID: u32 = 1 << 31;

struct Global {
    /// Every live module. A module is live from the end of a successful load
    /// until its release starts.
    live: IdMap<Arc<Loaded>>,
    /// The next id to hand out; ids only grow.
    next_id: u32,
}

static GLOBAL: Mutex<Global> = Mutex::new(Global {
    live: IdMap::new(),
    next_id: 1,
});

/// Bumped (under the `GLOBAL` lock) by every release.
static RELEASE_EPOCH: AtomicU32 = AtomicU32::new(0);

/// The global lock, held for a few instructions at a time and never across
/// a call into the engine (the guard records that it is held, for the fake
/// engine's check).
fn global() -> GlobalGuard {
    // Nothing panics while holding the lock (panic = abort besides), so a
    // poisoned lock still holds consistent data.
    let guard = GLOBAL.lock().unwrap_or_else(|e| e.into_inner());
    HOLDING_GLOBAL.with(|h| h.set(true));
    GlobalGuard(guard)
}

struct GlobalGuard(MutexGuard<'static, Global>);

impl std::ops::Deref for GlobalGuard {
    type Target = Global;
    fn deref(&self) -> &Global {
        &self.0
    }
}

impl std::ops::DerefMut for GlobalGuard {
    fn deref_mut(&mut self) -> &mut Global {
        &mut self.0
    }
}

impl Drop for GlobalGuard {
    fn drop(&mut self) {
        HOLDING_GLOBAL.with(|h| h.set(false));
    }
}

/// Whether this thread may call into the engine now: it holds neither its
/// registry state nor the global lock. Checked by the native fake engine on
/// every call.
pub fn engine_may_be_entered() -> bool {
    let local_free = LOCAL
        .try_with(|l| l.try_borrow_mut().is_ok())
        .unwrap_or(true);
    local_free && !HOLDING_GLOBAL.with(Cell::get)
}

/// A direct-mapped cache line: label `l < len` of module `id` is at `base + l`.
#[derive(Clone, Copy)]
struct CacheEntry {
    /// The module's id, with [`COUNTING`] if its look-ups are counted
    /// ([`LEFT`]): the look-ups of the others pay nothing for counting.
    id: u32,
    base: u32,
    len: u32,
    /// The release epoch this thread had synchronised to when it filled the
    /// line; the line is valid only while no release happened since.
    epoch: u32,
}

const EMPTY: CacheEntry = CacheEntry {
    id: 0,
    base: 0,
    len: 0,
    epoch: 0,
};
const CACHE_SIZE: usize = 256;

/// The flag of a cache line whose module's look-ups are counted (module
/// ids stay below it).
const COUNTING: u32 = 1 << 31;

impl CacheEntry {
    /// The line for `placed` of module `id`, at this thread's epoch.
    fn of(id: ModuleId, placed: &Placed) -> CacheEntry {
        CacheEntry {
            id: id.get() | if placed.left.is_some() { COUNTING } else { 0 },
            base: placed.at.base,
            len: placed.at.len,
            epoch: SEEN_EPOCH.with(Cell::get),
        }
    }

    /// The module whose line it is (0: none).
    fn module(&self) -> u32 {
        self.id & !COUNTING
    }

    fn counting(&self) -> bool {
        self.id & COUNTING != 0
    }
}

/// A map from module id to `V`, kept as a vector sorted by id: small code,
/// and ids mostly arrive in increasing order (appends).
struct IdMap<V> {
    entries: Vec<(ModuleId, V)>,
}

impl<V> IdMap<V> {
    const fn new() -> IdMap<V> {
        IdMap {
            entries: Vec::new(),
        }
    }

    fn find(&self, id: ModuleId) -> std::result::Result<usize, usize> {
        self.entries.binary_search_by_key(&id, |(m, _)| *m)
    }

    fn get(&self, id: ModuleId) -> Option<&V> {
        self.find(id).ok().map(|i| &self.entries[i].1)
    }

    fn get_mut(&mut self, id: ModuleId) -> Option<&mut V> {
        self.find(id).ok().map(|i| &mut self.entries[i].1)
    }

    fn contains(&self, id: ModuleId) -> bool {
        self.find(id).is_ok()
    }

    fn insert(&mut self, id: ModuleId, value: V) {
        match self.find(id) {
            Ok(i) => self.entries[i].1 = value,
            Err(i) => self.entries.insert(i, (id, value)),
        }
    }

    fn remove(&mut self, id: ModuleId) -> Option<V> {
        self.find(id).ok().map(|i| self.entries.remove(i).1)
    }

    fn len(&self) -> usize {
        self.entries.len()
    }

    fn ids(&self) -> impl Iterator<Item = ModuleId> + '_ {
        self.entries.iter().map(|(id, _)| *id)
    }
}

/// The modules this thread placed (or was placing) in its table. Dropped
/// when the thread ends, which clears its table slots for whoever runs next
/// on the same worker.
struct Local {
    /// Module id to placement; `None` while a placement is under way, or
    /// after one was interrupted (the engine may hold the module).
    /// Consulted only on cache misses.
    modules: IdMap<Option<Placed>>,
}

/// Where a module's labels are answered from on this thread.
#[derive(Debug, Clone, Copy)]
struct Placed {
    at: Placement,
    /// Look-ups left before the module is rewritten on this thread, while
    /// its cache line does not hold the count; `None` once that is
    /// settled (placed rewritten, or it stays as it came).
    left: Option<u32>,
}

impl Placed {
    /// The count its cache line starts from: settled modules count down
    /// from the most (a line that runs out is refilled, nothing more).
    fn line_count(&self) -> u32 {
        self.left.unwrap_or(u32::MAX)
    }
}

/// Tells the engine to drop both placements a module may have on this
/// thread (an id the engine does not hold is ignored).
fn engine_release(id: ModuleId) {
    engine::release(id.get());
    engine::release(id.get() | HOT_ID);
}

impl Drop for Local {
    fn drop(&mut self) {
        for (id, _) in self.modules.entries.drain(..) {
            engine_release(id);
        }
    }
}

thread_local! {
    static CACHE: [Cell<CacheEntry>; CACHE_SIZE] = const {
        [const { Cell::new(EMPTY) }; CACHE_SIZE]
    };
    /// Per cache line: look-ups it answers before the slow path is taken
    /// (where a module loaded cold is rewritten when its count runs out).
    static LEFT: [Cell<u32>; CACHE_SIZE] = const {
        [const { Cell::new(0) }; CACHE_SIZE]
    };
    static SEEN_EPOCH: Cell<u32> = const { Cell::new(0) };
    static HOLDING_GLOBAL: Cell<bool> = const { Cell::new(false) };
    static STARTED: Cell<bool> = const { Cell::new(false) };
    static LOCAL: RefCell<Local> = const { RefCell::new(Local { modules: IdMap::new() }) };
}

fn cache_slot(id: ModuleId) -> usize {
    id.get() as usize % CACHE_SIZE
}

/// Runs `f` on this thread's `Local`, or fails if the thread is ending or the
/// runtime is already busy on it (a re-entrant call). `f` must not call into
/// the engine.
fn with_local<T>(f: impl FnOnce(&mut Local) -> Result<T>) -> Result<T> {
    LOCAL
        .try_with(|local| match local.try_borrow_mut() {
            Ok(mut local) => f(&mut local),
            Err(_) => Err(Error::new(
                ErrorKind::Reentrant,
                "re-entrant call: the JIT runtime is already busy on this thread",
            )),
        })
        .unwrap_or_else(|_| {
            Err(Error::new(
                ErrorKind::Reentrant,
                "the JIT runtime was called while this thread is exiting",
            ))
        })
}

/// Loads a stream with this program's rewrite options and makes it live.
/// Returns its handle.
///
/// Rewritten at load ([`engine::tier_up_setting`] is 0), the module is
/// [`prepare`]d and nothing is compiled or kept by the engine: each thread
/// compiles the module when it first looks a label up. Loaded cold, it is
/// [`prepare_cold`]d and placed on this thread at once, which is how the
/// engine validates it: a module the engine refuses is refused here.
pub fn load(bytes: &[u8]) -> Result<ModuleId> {
    sync_releases()?;
    let opts = engine::rewrite_options();
    let loaded = match engine::tier_up_setting() {
        0 => prepare(bytes, opts)?,
        setting => prepare_cold(bytes, opts, setting)?,
    };
    let loaded = Arc::new(loaded);
    let id = {
        let mut g = global();
        let id = ModuleId(g.next_id);
        if g.next_id >= HOT_ID - 1 {
            return Err(Error::new(
                ErrorKind::Resource,
                "module ids exhausted (2^31 loads)",
            ));
        }
        g.next_id += 1;
        id
    };
    if loaded.cold.is_some() {
        // Placed before it is live: refused, or interrupted by an
        // exception, it never is, and this thread's next check of
        // releases drops whatever the engine kept of it.
        place_first(id, &loaded)?;
    }
    global().live.insert(id, loaded);
    Ok(id)
}

/// The start of every load: the memory budget reset, the stream parsed and
/// its module checked.
fn parse_and_check(bytes: &[u8]) -> Result<(stream::Stream<'_>, module::Shape<'_>)> {
    memory::reset();
    memory::headroom()?;
    let parsed = stream::parse(bytes)?;
    let check: fn(&[u8], u32, usize) -> Result<module::Shape<'_>> = module::check;
    let shape =
        crate::tiering::out_of_line(check)(parsed.wasm, parsed.num_entries, parsed.wasm_offset)?;
    Ok((parsed, shape))
}

/// A stream made ready to place: parsed and checked, validated by the
/// engine as it came (so that whether a module is refused never depends on
/// the rewrite options), rewritten with `opts`, its line metadata copied.
/// Every allocation that depends on the stream is reserved fallibly
/// ([`memory`]), so a shortage is an error, not an abort.
pub fn prepare(bytes: &[u8], opts: rewrite::Options) -> Result<Loaded> {
    let (parsed, shape) = parse_and_check(bytes)?;
    engine::validate(parsed.wasm, parsed.wasm_offset)?;
    let module = rewrite::rewrite(parsed.wasm, &shape, opts, parsed.wasm_offset)?;
    let lines = memory::copy(parsed.lines, "the line metadata")?;
    Ok(Loaded {
        num_entries: parsed.num_entries,
        module,
        cold: None,
        lines,
    })
}

/// A stream loaded cold: parsed and checked, its module copied with its
/// imports adapted (no body is read), and kept as it came for its rewrite
/// once hot. Not validated here: the engine validates it when it is placed
/// ([`load`] places it at once).
pub fn prepare_cold(bytes: &[u8], opts: rewrite::Options, setting: u32) -> Result<Loaded> {
    let (parsed, shape) = parse_and_check(bytes)?;
    let after = engine::tier_up_after(setting, parsed.wasm.len());
    let wasm = rewrite::adapt_imports(parsed.wasm, &shape, opts.shared_memory, parsed.wasm_offset)?;
    let original = memory::copy(parsed.wasm, "the module")?;
    let lines = memory::copy(parsed.lines, "the line metadata")?;
    Ok(Loaded {
        num_entries: parsed.num_entries,
        module: rewrite::Rewritten {
            wasm,
            ..rewrite::Rewritten::default()
        },
        cold: Some(Cold {
            original,
            base: parsed.wasm_offset,
            opts,
            after,
            hot: OnceLock::new(),
        }),
        lines,
    })
}

/// The hot path: the table index of `label` of the module with handle
/// `handle` if it is placed on this thread, no release happened since
/// this thread last looked, and, if its look-ups are counted, its count
/// has not run out; `None` otherwise (then call [`entry_point`]). One
/// thread-local cache line and an atomic load (and a count down while the
/// module is counted): no lock, no call into JavaScript, no stack frame.
#[inline(always)]
pub fn cached_entry_point(handle: usize, label: u32) -> Option<u32> {
    // Handle 0 maps to empty lines (id 0, len 0), so it never hits; no
    // module id has the flag of counted lines.
    let id = u32::try_from(handle).ok().filter(|id| id & COUNTING == 0)?;
    let slot = id as usize % CACHE_SIZE;
    let e = CACHE.with(|cache| cache[slot].get());
    let epoch = RELEASE_EPOCH.load(Ordering::Acquire);
    if e.epoch != epoch || label >= e.len {
        return None;
    }
    if e.id == id {
        // Lazily: `base + label` is only meaningful (and cannot overflow)
        // on a hit.
        return Some(e.base + label);
    }
    if e.id != id | COUNTING {
        return None;
    }
    let left = LEFT.with(|left| {
        let n = left[slot].get();
        if n != 0 {
            left[slot].set(n - 1);
        }
        n
    });
    (left != 0).then(|| e.base + label)
}

/// The table index of `label` of module `id` on this thread, placing the
/// module on this thread first if needed.
pub fn entry_point(id: ModuleId, label: u32) -> Result<u32> {
    match cached_entry_point(id.to_handle(), label) {
        Some(index) => Ok(index),
        None => entry_point_slow(id, label),
    }
}

/// Everything but a cache hit: freeing released modules' slots, placing the
/// module on this thread, refilling the cache line, and errors. For callers
/// that already probed the cache with [`cached_entry_point`].
#[cold]
pub fn entry_point_slow(id: ModuleId, label: u32) -> Result<u32> {
    sync_releases()?;
    let slot = cache_slot(id);
    let line = CACHE.with(|cache| cache[slot].get());
    let line_left = LEFT.with(|left| left[slot].get());
    let mut placed = match with_local(|local| Ok(local.modules.get(id).copied().flatten()))? {
        Some(p) => p,
        None => {
            let loaded = global().live.get(id).cloned().ok_or_else(|| not_live(id))?;
            check_label(id, label, loaded.num_entries)?;
            place(id, &loaded)?
        }
    };
    check_label(id, label, placed.at.len)?;
    if let Some(left) = placed.left {
        // The line holds the count while it holds the module; this look-up
        // counts too (modules sharing a line may only ever miss).
        let left = if line.id == id.get() | COUNTING {
            line_left
        } else {
            left
        };
        placed.left = Some(left.saturating_sub(1));
        if left == 0 {
            placed = tier_up(id, placed)?;
        }
    }
    fill_line(id, &placed)?;
    Ok(placed.at.base + label)
}

/// Makes module `id`'s cache line answer from `placed`, first keeping the
/// count of the module whose line it takes over, if that one is counted.
fn fill_line(id: ModuleId, placed: &Placed) -> Result<()> {
    let slot = cache_slot(id);
    let line = CACHE.with(|cache| cache[slot].get());
    if line.module() != id.get() && line.counting() {
        let left = LEFT.with(|left| left[slot].get());
        with_local(|local| {
            if let Some(Some(p)) = local.modules.get_mut(ModuleId(line.module())) {
                if p.left.is_some() {
                    p.left = Some(left);
                }
            }
            Ok(())
        })?;
    }
    CACHE.with(|cache| cache[slot].set(CacheEntry::of(id, placed)));
    LEFT.with(|left| left[slot].set(placed.line_count()));
    Ok(())
}

/// Places live module `id` in this thread's table: rewritten, if it was
/// rewritten at load or a thread found it hot; else as it came, counting.
/// The module is entered in this thread's list before the engine is
/// called, and its placement recorded after: if an exception interrupts
/// the call, the entry stays and the next release of the module tells the
/// engine to drop it.
fn place(id: ModuleId, loaded: &Loaded) -> Result<Placed> {
    let (engine_id, wasm, left) = match &loaded.cold {
        None => (id.get(), &loaded.module.wasm, None),
        Some(cold) => match cold.made() {
            Some(hot) => (id.get() | HOT_ID, &hot.wasm, None),
            None if cold.tried() => (id.get(), &loaded.module.wasm, None),
            None => (id.get(), &loaded.module.wasm, Some(cold.after)),
        },
    };
    let as_it_came = engine_id == id.get() && loaded.cold.is_some();
    with_local(|local| {
        local.modules.insert(id, None);
        Ok(())
    })?;
    match engine::register(engine_id, wasm, loaded.num_entries, as_it_came) {
        Ok(at) => {
            let placed = Placed { at, left };
            with_local(|local| {
                local.modules.insert(id, Some(placed));
                Ok(())
            })?;
            Ok(placed)
        }
        Err(e) => {
            // The engine committed nothing: forget the entry.
            with_local(|local| {
                local.modules.remove(id);
                Ok(())
            })?;
            Err(e)
        }
    }
}

/// Places a module just loaded cold on this thread (its validation).
fn place_first(id: ModuleId, loaded: &Loaded) -> Result<()> {
    let placed = place(id, loaded)?;
    fill_line(id, &placed)
}

/// Module `id` ran out of look-ups on this thread: rewrites it if no
/// thread did, and places the rewritten module beside the first. If the
/// rewrite failed, or the engine refuses the rewritten module, the module
/// stays as it came on this thread, and stops counting: the VM goes on
/// either way.
fn tier_up(id: ModuleId, placed: Placed) -> Result<Placed> {
    let loaded = global().live.get(id).cloned().ok_or_else(|| not_live(id))?;
    let settled = Placed {
        at: placed.at,
        left: None,
    };
    let hot = loaded
        .cold
        .as_ref()
        .and_then(|cold| cold.rewritten(loaded.num_entries));
    let at = match hot {
        // The entry stays as it is while the engine is called: a release
        // drops both placements whatever happened.
        Some(hot) => engine::register(id.get() | HOT_ID, &hot.wasm, loaded.num_entries, false)
            .map_err(|e| {
                crate::error::log(&Error::new(
                    e.kind(),
                    format!(
                        "rewritten module not placed, the first stays: {}",
                        e.message()
                    ),
                ))
            })
            .unwrap_or(placed.at),
        None => placed.at,
    };
    let now = Placed { at, ..settled };
    with_local(|local| {
        local.modules.insert(id, Some(now));
        Ok(())
    })?;
    Ok(now)
}

fn check_label(id: ModuleId, label: u32, num_entries: u32) -> Result<()> {
    if label < num_entries {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::BadLabel,
            format!(
                "label {label} is out of range for module {} ({num_entries} labels)",
                id.get()
            ),
        ))
    }
}

#[cold]
fn not_live(id: ModuleId) -> Error {
    Error::new(
        ErrorKind::BadHandle,
        format!(
            "native_code {:#x} is not a loaded module (released, or never loaded)",
            id.get()
        ),
    )
}

/// Frees this thread's slots of every module released since this thread
/// last looked (and, on its first call, what an earlier thread left on the
/// same worker), then records the epoch it checked against. Each module is
/// dropped by the engine before it leaves this thread's list, so an
/// exception in between only means it is dropped again next time.
fn sync_releases() -> Result<()> {
    if !STARTED.with(Cell::get) {
        // A thread's first call: an earlier thread that ran on the same
        // worker (Emscripten reuses them) may have left modules in its table.
        STARTED.with(|s| s.set(true));
        engine::thread_start();
    }
    let epoch = RELEASE_EPOCH.load(Ordering::Acquire);
    if SEEN_EPOCH.with(Cell::get) == epoch {
        return Ok(());
    }
    let dead: Vec<ModuleId> = with_local(|local| {
        let g = global();
        Ok(local
            .modules
            .ids()
            .filter(|id| !g.live.contains(*id))
            .collect())
    })?;
    for id in dead {
        CACHE.with(|cache| {
            let slot = &cache[cache_slot(id)];
            if slot.get().module() == id.get() {
                slot.set(EMPTY);
            }
        });
        engine_release(id);
        with_local(|local| {
            local.modules.remove(id);
            Ok(())
        })?;
    }
    SEEN_EPOCH.with(|seen| seen.set(epoch));
    Ok(())
}

/// Releases a module: it stops being live at once for every thread; this
/// thread frees its slots now, every other thread before its next call.
pub fn release(id: ModuleId) -> Result<()> {
    {
        let mut g = global();
        if g.live.remove(id).is_none() {
            return Err(not_live(id));
        }
        RELEASE_EPOCH.fetch_add(1, Ordering::AcqRel);
    }
    sync_releases()
}

/// The module's copy of its line metadata, or NULL if it has none. Valid
/// until the module is released.
pub fn lines(id: ModuleId) -> Result<*const u8> {
    let g = global();
    let loaded = g.live.get(id).ok_or_else(|| not_live(id))?;
    Ok(if loaded.lines.is_empty() {
        std::ptr::null()
    } else {
        loaded.lines.as_ptr()
    })
}

/// Number of labels of a live module.
pub fn num_entries(id: ModuleId) -> Result<u32> {
    global()
        .live
        .get(id)
        .map(|m| m.num_entries)
        .ok_or_else(|| not_live(id))
}

/// Number of live modules (for tests and leak checks).
pub fn live_count() -> usize {
    global().live.len()
}

/// Number of modules placed (or being placed) on this thread, after
/// freeing those released elsewhere (for leak checks).
pub fn local_count() -> usize {
    sync_releases()
        .and_then(|_| with_local(|local| Ok(local.modules.len())))
        .unwrap_or(0)
}
