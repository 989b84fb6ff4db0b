//! The persistent native-code cache behind AtomVM's
//! `sys_get_cache_native_code` / `sys_set_cache_native_code` hooks (spec
//! section 5): a JIT stream compiled at run time is kept in a directory, and
//! the next load of the same module, by the same build, maps it instead of
//! compiling it again.
//!
//! An entry is one file, `<module hash>-<build key>.avmjit`:
//!
//! | bytes | field |
//! |---|---|
//! | 8 | magic `AVMWJIT\x01` (the last byte is this format's version) |
//! | 8 | build key (little endian, as all numbers here) |
//! | 16 | module hash: FNV-1a 128 of the module's whole BEAM binary |
//! | 8 | BEAM binary size |
//! | 2 | JIT format version AtomVM passed |
//! | 4 | labels count AtomVM passed |
//! | 4 | stream size |
//! | 8 | FNV-1a 64 of every other byte of the file |
//! | n | the JIT stream as it arrived |
//!
//! An entry is untrusted input: any field that does not match the module
//! and build asked for, a wrong size or checksum, refuses it with a message;
//! the caller removes it and compiles the module as if there were no cache.
//! A stream that passes still goes through every check and rewrite of a
//! stream read from a module file.
//!
//! Writes go to a temporary file in the same directory, renamed into place,
//! so that processes sharing the directory never see a torn entry. After a
//! write, the least recently used entries (by modification time; a hit
//! touches its entry) go until the directory holds at most the size bound.

use crate::engine::files;
use crate::error::{Error, ErrorKind, Result};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

const MAGIC: [u8; 8] = *b"AVMWJIT\x01";
const HEADER: usize = 8 + 8 + 16 + 8 + 2 + 4 + 4 + 8;
const CHECKSUM_AT: usize = HEADER - 8;
const EXTENSION: &str = "avmjit";
/// No entry larger than this is read (a stream is a module's code).
pub const MAX_ENTRY: u64 = 256 << 20;
/// Default size bound of the directory.
pub const DEFAULT_MAX_BYTES: u64 = 256 << 20;
/// A temporary file older than this was left by a process that died.
const STALE_TEMP: Duration = Duration::from_secs(3600);

/// FNV-1a, 128 bits.
pub fn hash128(bytes: &[u8]) -> u128 {
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013B;
    let mut h: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    for &b in bytes {
        h ^= u128::from(b);
        h = h.wrapping_mul(PRIME);
    }
    h
}

/// FNV-1a, 64 bits, over several slices.
fn hash64(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for &b in *part {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01B3);
        }
    }
    h
}

/// The build key: what produced a stream and what it runs against. `build`
/// names AtomVM's build (its version and JIT format version, from the C
/// shim); `interface` is the content of AtomVM's native interface (its
/// entries are table indices, which move when AtomVM's C code changes).
/// This library's cache and stream format versions are part of it too.
pub fn build_key(build: &[u8], interface: &[u8]) -> u64 {
    let ours = [MAGIC[7], crate::stream::FORMAT_VERSION];
    hash64(&[&ours, &(build.len() as u64).to_le_bytes(), build, interface])
}

/// A cache entry's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub version: u16,
    pub labels: u32,
    pub stream: Vec<u8>,
}

/// Which entry: the module's BEAM binary and the build key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    pub module: u128,
    pub module_size: u64,
    pub build: u64,
}

impl Key {
    pub fn of(beam: &[u8], build: u64) -> Key {
        Key {
            module: hash128(beam),
            module_size: beam.len() as u64,
            build,
        }
    }

    fn file_name(&self) -> String {
        format!("{:032x}-{:016x}.{EXTENSION}", self.module, self.build)
    }
}

fn bad(message: String) -> Error {
    Error::new(ErrorKind::Cache, format!("cache entry refused: {message}"))
}

fn io(what: &str, path: &Path, e: String) -> Error {
    Error::new(
        ErrorKind::Cache,
        format!("cache: {what} {}: {e}", path.display()),
    )
}

fn out_of_memory() -> Error {
    Error::new(ErrorKind::Resource, "cache: out of memory for an entry")
}

/// The bytes of an entry for `key`.
pub fn encode(key: &Key, entry: &Entry) -> Result<Vec<u8>> {
    let size = u32::try_from(entry.stream.len())
        .ok()
        .filter(|n| u64::from(*n) + HEADER as u64 <= MAX_ENTRY)
        .ok_or_else(|| bad(format!("a stream of {} bytes", entry.stream.len())))?;
    let mut out = Vec::new();
    out.try_reserve_exact(HEADER + entry.stream.len())
        .map_err(|_| out_of_memory())?;
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&key.build.to_le_bytes());
    out.extend_from_slice(&key.module.to_le_bytes());
    out.extend_from_slice(&key.module_size.to_le_bytes());
    out.extend_from_slice(&entry.version.to_le_bytes());
    out.extend_from_slice(&entry.labels.to_le_bytes());
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&entry.stream);
    let sum = hash64(&[&out[..CHECKSUM_AT], &out[HEADER..]]);
    out[CHECKSUM_AT..HEADER].copy_from_slice(&sum.to_le_bytes());
    Ok(out)
}

fn field<const N: usize>(bytes: &[u8], at: usize) -> [u8; N] {
    let mut a = [0; N];
    if let Some(s) = bytes.get(at..at + N) {
        a.copy_from_slice(s);
    }
    a
}

/// The entry in `bytes`, if they are an intact entry for `key`.
pub fn decode(bytes: &[u8], key: &Key) -> Result<Entry> {
    if bytes.len() < HEADER {
        return Err(bad(format!(
            "{} bytes, shorter than its {HEADER}-byte header",
            bytes.len()
        )));
    }
    if bytes[..8] != MAGIC {
        return Err(bad("not an entry of this cache format".into()));
    }
    let build = u64::from_le_bytes(field(bytes, 8));
    if build != key.build {
        return Err(bad(format!(
            "written by another build (key {build:016x}, this build {:016x})",
            key.build
        )));
    }
    let module = u128::from_le_bytes(field(bytes, 16));
    let module_size = u64::from_le_bytes(field(bytes, 32));
    if module != key.module || module_size != key.module_size {
        return Err(bad("for another module".into()));
    }
    let version = u16::from_le_bytes(field(bytes, 40));
    let labels = u32::from_le_bytes(field(bytes, 42));
    let size = u32::from_le_bytes(field(bytes, 46)) as usize;
    if bytes.len() - HEADER != size {
        return Err(bad(format!(
            "its stream has {} bytes, its header says {size}",
            bytes.len() - HEADER
        )));
    }
    let sum = u64::from_le_bytes(field(bytes, CHECKSUM_AT));
    if sum != hash64(&[&bytes[..CHECKSUM_AT], &bytes[HEADER..]]) {
        return Err(bad("checksum mismatch".into()));
    }
    let mut stream = Vec::new();
    stream
        .try_reserve_exact(size)
        .map_err(|_| out_of_memory())?;
    stream.extend_from_slice(&bytes[HEADER..]);
    Ok(Entry {
        version,
        labels,
        stream,
    })
}

/// A cache directory with its size bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cache {
    pub dir: PathBuf,
    pub max_bytes: u64,
}

/// What a look-up found.
#[derive(Debug)]
pub enum Lookup {
    Hit(Entry),
    Miss,
    /// An entry was there but refused (and removed): the message says why.
    Refused(Error),
}

impl Cache {
    pub fn new(dir: impl Into<PathBuf>) -> Cache {
        Cache {
            dir: dir.into(),
            max_bytes: DEFAULT_MAX_BYTES,
        }
    }

    pub fn path_of(&self, key: &Key) -> PathBuf {
        self.dir.join(key.file_name())
    }

    /// The entry for `key`. A hit marks it used; an entry that cannot be
    /// used is removed.
    pub fn get(&self, key: &Key) -> Lookup {
        let path = self.path_of(key);
        let bytes = match read_bounded(&path) {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return Lookup::Miss,
            Err(e) => return Lookup::Refused(e),
        };
        match decode(&bytes, key) {
            Ok(entry) => {
                files::touch(&path);
                Lookup::Hit(entry)
            }
            Err(e) => {
                self.remove(key);
                Lookup::Refused(e)
            }
        }
    }

    /// Removes the entry for `key`, if any.
    pub fn remove(&self, key: &Key) {
        let _ = files::remove(&self.path_of(key));
    }

    /// Stores `entry` for `key` atomically, then evicts down to the bound.
    pub fn put(&self, key: &Key, entry: &Entry) -> Result<()> {
        let bytes = encode(key, entry)?;
        files::mkdir_all(&self.dir).map_err(|e| io("cannot create", &self.dir, e))?;
        let path = self.path_of(key);
        let temp = self.write_temp(&bytes)?;
        if let Err(e) = files::rename(&temp, &path) {
            let _ = files::remove(&temp);
            return Err(io("cannot rename into", &path, e));
        }
        self.evict()
    }

    /// Writes `bytes` to a new temporary file in the directory.
    fn write_temp(&self, bytes: &[u8]) -> Result<PathBuf> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        for _ in 0..8 {
            let nonce = hash64(&[
                &COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes(),
                &now_nanos().to_le_bytes(),
                &(bytes.as_ptr() as usize).to_le_bytes(),
                &std::process::id().to_le_bytes(),
            ]);
            let temp = self.dir.join(format!(".{nonce:016x}.tmp"));
            match files::write_new(&temp, bytes) {
                Ok(true) => return Ok(temp),
                Ok(false) => continue,
                Err(e) => return Err(io("cannot write", &temp, e)),
            }
        }
        Err(Error::new(
            ErrorKind::Cache,
            "cache: no free temporary file name",
        ))
    }

    /// Removes least recently used entries until the directory holds at
    /// most `max_bytes`, and temporary files left by dead writers.
    pub fn evict(&self) -> Result<()> {
        let now = SystemTime::now();
        let listed = files::list(&self.dir).map_err(|e| io("cannot list", &self.dir, e))?;
        let mut entries = Vec::new();
        let mut total: u64 = 0;
        for f in listed {
            let path = self.dir.join(&f.name);
            if is_temp(&f.name) {
                if now.duration_since(f.modified).unwrap_or_default() > STALE_TEMP {
                    let _ = files::remove(&path);
                }
                continue;
            }
            if is_entry(&f.name) {
                total = total.saturating_add(f.len);
                entries.push((f.modified, f.len, path));
            }
        }
        entries.sort();
        for (_, len, path) in entries {
            if total <= self.max_bytes {
                break;
            }
            if files::remove(&path).is_ok() {
                total -= len;
            }
        }
        Ok(())
    }

    /// Removes every entry (and temporary file); returns how many files.
    pub fn clear(&self) -> Result<usize> {
        let listed = files::list(&self.dir).map_err(|e| io("cannot list", &self.dir, e))?;
        Ok(listed
            .iter()
            .filter(|f| is_entry(&f.name) || is_temp(&f.name))
            .filter(|f| files::remove(&self.dir.join(&f.name)).is_ok())
            .count())
    }
}

fn is_entry(name: &str) -> bool {
    name.len() > EXTENSION.len() + 1
        && name.ends_with(EXTENSION)
        && name.as_bytes()[name.len() - EXTENSION.len() - 1] == b'.'
}

fn is_temp(name: &str) -> bool {
    name.starts_with('.') && name.ends_with(".tmp")
}

fn now_nanos() -> u128 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

/// The file's bytes, None if it does not exist; refused if too large.
fn read_bounded(path: &Path) -> Result<Option<Vec<u8>>> {
    let bytes = files::read(path, MAX_ENTRY).map_err(|e| io("cannot read", path, e))?;
    if let Some(b) = &bytes {
        if b.len() as u64 > MAX_ENTRY {
            let _ = files::remove(path);
            return Err(bad(format!("more than {MAX_ENTRY} bytes")));
        }
    }
    Ok(bytes)
}

// ---------------------------------------------------------------------------
// The process's cache: where it is, whether it is on, and the stream of the
// last run-time compilation on each thread (AtomVM hands the stream to
// `jit_stream_entry_point` and then the handle to `sys_set_cache_native_code`).
// ---------------------------------------------------------------------------

enum Setting {
    /// Not decided yet: ask the platform (environment, browser storage).
    Default,
    Off,
    On(Cache),
}

static SETTING: Mutex<Setting> = Mutex::new(Setting::Default);

impl Setting {
    /// A cache in `dir` (None: off), bounded by `max_bytes` or the default.
    fn of(dir: Option<PathBuf>, max_bytes: Option<u64>) -> Setting {
        match dir {
            Some(dir) => Setting::On(Cache {
                dir,
                max_bytes: max_bytes.unwrap_or(DEFAULT_MAX_BYTES),
            }),
            None => Setting::Off,
        }
    }
}

/// Uses `dir` (None: no cache) from now on.
pub fn configure(dir: Option<PathBuf>, max_bytes: Option<u64>) {
    *SETTING.lock().unwrap_or_else(|p| p.into_inner()) = Setting::of(dir, max_bytes);
}

/// Goes back to the platform's default.
pub fn reset() {
    *SETTING.lock().unwrap_or_else(|p| p.into_inner()) = Setting::Default;
}

/// The cache in force, if any. The platform is asked outside the lock.
pub fn current() -> Option<Cache> {
    {
        let setting = SETTING.lock().unwrap_or_else(|p| p.into_inner());
        match &*setting {
            Setting::Off => return None,
            Setting::On(cache) => return Some(cache.clone()),
            Setting::Default => {}
        }
    }
    let (dir, max) = crate::engine::default_cache();
    let mut setting = SETTING.lock().unwrap_or_else(|p| p.into_inner());
    if let Setting::Default = &*setting {
        *setting = Setting::of(dir, max);
    }
    match &*setting {
        Setting::On(cache) => Some(cache.clone()),
        _ => None,
    }
}

std::thread_local! {
    /// The handle and stream of this thread's last run-time compilation.
    static PENDING: std::cell::RefCell<Option<(usize, Vec<u8>)>> =
        const { std::cell::RefCell::new(None) };
}

/// Remembers the stream of a run-time compilation that gave `handle`, for a
/// `sys_set_cache_native_code` that follows (only if a cache is on).
pub fn remember(handle: usize, stream: &[u8]) {
    if current().is_none() {
        return;
    }
    let mut copy = Vec::new();
    if copy.try_reserve_exact(stream.len()).is_err() {
        return;
    }
    copy.extend_from_slice(stream);
    PENDING.with(|p| *p.borrow_mut() = Some((handle, copy)));
}

/// The remembered stream of `handle`, taken.
pub fn take_remembered(handle: usize) -> Option<Vec<u8>> {
    PENDING.with(|p| {
        let mut p = p.borrow_mut();
        match p.take() {
            Some((h, stream)) if h == handle => Some(stream),
            other => {
                *p = other;
                None
            }
        }
    })
}

// ---------------------------------------------------------------------------
// The hooks' work: look-up and store for AtomVM's module `beam`, by the
// build AtomVM's shim names.
// ---------------------------------------------------------------------------

/// The key of `beam` for this build (see [`build_key`]).
pub fn key_for(beam: &[u8], build: &[u8]) -> Key {
    Key::of(
        beam,
        build_key(build, &crate::engine::interface_fingerprint()),
    )
}

/// A module for `beam` from the cache: (handle, version, labels), or None
/// on a miss. A refused entry is removed, its message recorded, and None
/// returned: the module is then compiled as without a cache.
pub fn load(beam: &[u8], build: &[u8]) -> Option<(usize, u16, u32)> {
    let cache = current()?;
    let key = key_for(beam, build);
    let entry = match cache.get(&key) {
        Lookup::Hit(entry) => entry,
        Lookup::Miss => return None,
        Lookup::Refused(e) => {
            crate::error::record(&e);
            return None;
        }
    };
    let refuse = |message: String| {
        cache.remove(&key);
        crate::error::record(&Error::new(
            ErrorKind::Cache,
            format!("cache entry refused and removed: {message}"),
        ));
        None
    };
    match crate::stream::parse(&entry.stream) {
        Ok(s) if entry.labels <= s.num_entries => {}
        Ok(s) => {
            return refuse(format!(
                "{} labels for a stream of {}",
                entry.labels, s.num_entries
            ))
        }
        Err(e) => return refuse(e.to_string()),
    }
    match crate::registry::load(&entry.stream) {
        Ok(id) => Some((id.to_handle(), entry.version, entry.labels)),
        Err(e) => refuse(e.to_string()),
    }
}

/// Stores the stream remembered for `handle` as the entry of `beam`.
/// Ok(false) if there is no cache or no stream for that handle (a module
/// read from a file is not stored: its stream is in the file).
pub fn store(beam: &[u8], build: &[u8], version: u16, handle: usize, labels: u32) -> Result<bool> {
    let Some(cache) = current() else {
        return Ok(false);
    };
    let Some(stream) = take_remembered(handle) else {
        return Ok(false);
    };
    let key = key_for(beam, build);
    let entry = Entry {
        version,
        labels,
        stream,
    };
    cache.put(&key, &entry)?;
    crate::engine::cache_written();
    Ok(true)
}
