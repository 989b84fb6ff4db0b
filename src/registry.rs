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
//! probe of a thread-local cache line and an atomic load of the epoch the
//! line must have been filled at: no lock, no call into JavaScript.

use crate::engine::{self, Placement};
use crate::error::{Error, ErrorKind, Result};
use crate::{module, rewrite, stream};
use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

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
struct Loaded {
    /// Number of label functions; labels are `0..num_entries`.
    num_entries: u32,
    /// The rewritten module, ready for the engine.
    wasm: Box<[u8]>,
    /// Our copy of the line metadata; empty if the stream had none.
    lines: Box<[u8]>,
}

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

fn global() -> MutexGuard<'static, Global> {
    // Nothing panics while holding the lock (panic = abort besides), so a
    // poisoned lock still holds consistent data.
    GLOBAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// A direct-mapped cache line: label `l < len` of module `id` is at `base + l`.
#[derive(Clone, Copy)]
struct CacheEntry {
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

/// This thread's placed and compiled modules. Dropped when the thread ends,
/// which clears its table slots for whoever runs next on the same worker.
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

/// This thread's placed and compiled modules. Dropped when the thread ends,
/// which clears its table slots for whoever runs next on the same worker.
struct Local {
    /// Module id to placement; `None` when compiled here but not yet placed.
    /// Consulted only on cache misses.
    modules: IdMap<Option<Placement>>,
}

impl Drop for Local {
    fn drop(&mut self) {
        for (id, placement) in self.modules.entries.drain(..) {
            engine::release(id.get(), placement);
        }
    }
}

thread_local! {
    static CACHE: [Cell<CacheEntry>; CACHE_SIZE] = const {
        [const { Cell::new(EMPTY) }; CACHE_SIZE]
    };
    static SEEN_EPOCH: Cell<u32> = const { Cell::new(0) };
    static LOCAL: RefCell<Local> = const { RefCell::new(Local { modules: IdMap::new() }) };
}

fn cache_slot(id: ModuleId) -> usize {
    id.get() as usize % CACHE_SIZE
}

/// Runs `f` on this thread's `Local`, or fails if the thread is ending or the
/// runtime is already busy on it (a re-entrant call).
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

/// Loads a stream: parses and checks it, rewrites the module, has the engine
/// compile it on this thread, and makes it live. Returns its handle.
pub fn load(bytes: &[u8]) -> Result<ModuleId> {
    let parsed = stream::parse(bytes)?;
    let shape = module::check(parsed.wasm, parsed.num_entries, parsed.wasm_offset)?;
    ensure_memory_for(parsed.wasm.len() + parsed.lines.len())?;
    let wasm = rewrite::rewrite(
        parsed.wasm,
        &shape,
        engine::rewrite_options(),
        parsed.wasm_offset,
    )?
    .wasm;
    let lines = copy(parsed.lines)?;
    let id = {
        let mut g = global();
        let id = ModuleId(g.next_id);
        g.next_id = g
            .next_id
            .checked_add(1)
            .ok_or_else(|| Error::new(ErrorKind::Resource, "module ids exhausted (2^32 loads)"))?;
        id
    };
    with_local(|local| {
        engine::compile(id.get(), &wasm)?;
        local.modules.insert(id, None);
        Ok(())
    })?;
    let loaded = Arc::new(Loaded {
        num_entries: parsed.num_entries,
        wasm: wasm.into_boxed_slice(),
        lines,
    });
    global().live.insert(id, loaded);
    Ok(id)
}

/// Loading a module of `size` bytes needs about three times that at once
/// (the rewrite's buffers, its output, the copy kept). Rust aborts when an
/// allocation fails, and not every allocation on the way can be made
/// fallible, so ask for that much first with a fallible reservation (and
/// give it back): if memory is short, the load fails with a message instead
/// of the VM aborting.
fn ensure_memory_for(size: usize) -> Result<()> {
    let need = size.saturating_mul(3).saturating_add(64 * 1024);
    let mut probe: Vec<u8> = Vec::new();
    probe.try_reserve_exact(need).map_err(|_| {
        Error::new(
            ErrorKind::Resource,
            format!("out of memory: loading a {size}-byte module needs about {need} bytes"),
        )
    })
}

/// Copies `bytes`, failing cleanly if memory is short.
fn copy(bytes: &[u8]) -> Result<Box<[u8]>> {
    let mut out = Vec::new();
    out.try_reserve_exact(bytes.len()).map_err(|_| {
        Error::new(
            ErrorKind::Resource,
            format!("out of memory copying {} bytes", bytes.len()),
        )
    })?;
    out.extend_from_slice(bytes);
    Ok(out.into_boxed_slice())
}

/// The hot path: the table index of `label` of the module with handle
/// `handle` if it is placed on this thread and no release happened since
/// this thread last looked; `None` otherwise (then call [`entry_point`]).
/// One thread-local cache line and an atomic load: no lock, no call into
/// JavaScript, no stack frame.
#[inline(always)]
pub fn cached_entry_point(handle: usize, label: u32) -> Option<u32> {
    // Handle 0 maps to empty lines (id 0, len 0), so it never hits.
    let id = u32::try_from(handle).ok()?;
    let e = CACHE.with(|cache| cache[id as usize % CACHE_SIZE].get());
    let epoch = RELEASE_EPOCH.load(Ordering::Acquire);
    // Lazily: `base + label` is only meaningful (and cannot overflow) on a hit.
    (e.id == id && e.epoch == epoch && label < e.len).then(|| e.base + label)
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
    with_local(|local| {
        sync_releases(local);
        let placement = match local.modules.get(id).copied().flatten() {
            Some(p) => p,
            None => {
                let loaded = global().live.get(id).cloned().ok_or_else(|| not_live(id))?;
                check_label(id, label, loaded.num_entries)?;
                let p = engine::register(id.get(), &loaded.wasm, loaded.num_entries)?;
                local.modules.insert(id, Some(p));
                p
            }
        };
        check_label(id, label, placement.len)?;
        CACHE.with(|cache| {
            cache[cache_slot(id)].set(CacheEntry {
                id: id.get(),
                base: placement.base,
                len: placement.len,
                epoch: SEEN_EPOCH.with(Cell::get),
            })
        });
        Ok(placement.base + label)
    })
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
/// last looked, then records the epoch it checked against.
fn sync_releases(local: &mut Local) {
    let epoch = RELEASE_EPOCH.load(Ordering::Acquire);
    if SEEN_EPOCH.with(Cell::get) == epoch {
        return;
    }
    let dead: Vec<ModuleId> = {
        let g = global();
        local
            .modules
            .ids()
            .filter(|id| !g.live.contains(*id))
            .collect()
    };
    for id in dead {
        forget_locally(local, id);
    }
    SEEN_EPOCH.with(|seen| seen.set(epoch));
}

fn forget_locally(local: &mut Local, id: ModuleId) {
    if let Some(placement) = local.modules.remove(id) {
        CACHE.with(|cache| {
            let slot = &cache[cache_slot(id)];
            if slot.get().id == id.get() {
                slot.set(EMPTY);
            }
        });
        engine::release(id.get(), placement);
    }
}

/// Releases a module: it stops being live at once for every thread; this
/// thread frees its slots now, every other thread before its next lookup.
pub fn release(id: ModuleId) -> Result<()> {
    {
        let mut g = global();
        if g.live.remove(id).is_none() {
            return Err(not_live(id));
        }
        RELEASE_EPOCH.fetch_add(1, Ordering::AcqRel);
    }
    with_local(|local| {
        sync_releases(local);
        Ok(())
    })
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

/// Number of modules compiled or placed on this thread (for leak checks).
pub fn local_count() -> usize {
    with_local(|local| {
        sync_releases(local);
        Ok(local.modules.len())
    })
    .unwrap_or(0)
}
