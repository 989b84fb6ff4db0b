//! The browser's cache directory as the page sees it, kept in memory so that
//! the loading thread does not wait for the main thread.
//!
//! In a browser the cache's files live in Emscripten's file system on the
//! main thread (a directory loaded from IndexedDB before `main`). Every file
//! operation from a worker is a synchronous round trip to that thread, and
//! the worker waits until the main thread is free. The page is the only
//! writer of its copy of the directory: another page's writes reach it only
//! when it starts again. So a model held here answers as the directory
//! would:
//! - a directory is listed once (one round trip);
//! - a name the model does not hold is a miss, without a round trip;
//! - changes (create, rename, remove, touch, make the directory) update the
//!   model and are posted to the main thread, which applies them in the
//!   order they were posted. The caller does not wait.
//!
//! Only reading an entry's bytes goes to the main thread and waits.
//!
//! A change the main thread fails to apply is reported on its console. The
//! model then holds a name the directory lacks; reading it finds nothing,
//! which is a miss, and the name is dropped.
//!
//! The calls to the main thread are a trait, [`MainThread`], so that the
//! model is tested natively against a main thread that applies posted
//! changes only when told to.

use crate::engine::files::Listed;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::SystemTime;

/// A change to the directory, posted to the main thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change<'a> {
    MkdirAll(&'a Path),
    /// Creates the file, which the model says does not exist.
    Create(&'a Path, &'a [u8]),
    Rename(&'a Path, &'a Path),
    Remove(&'a Path),
    Touch(&'a Path),
}

/// What runs on the main thread.
pub trait MainThread {
    /// The files of `dir`, waiting for the answer (none if it does not exist).
    fn list(&self, dir: &Path) -> Result<Vec<Listed>, String>;
    /// The bytes of `path` (at most `max` + 1), None if it does not exist,
    /// waiting for the answer. `len` is the size the model expects.
    fn read(&self, path: &Path, len: u64, max: u64) -> Result<Option<Vec<u8>>, String>;
    /// Queues `change` and returns at once. Err only if it cannot be queued
    /// (no memory for the copy it keeps until the main thread is done).
    fn post(&self, change: Change<'_>) -> Result<(), String>;
}

#[derive(Debug, Clone, Copy)]
struct File {
    len: u64,
    modified: SystemTime,
}

type Dir = BTreeMap<String, File>;

/// The directories listed so far, by path.
pub struct Mirror {
    dirs: Mutex<BTreeMap<PathBuf, Dir>>,
}

impl Default for Mirror {
    fn default() -> Self {
        Mirror::new()
    }
}

fn no_such_file(path: &Path) -> String {
    format!("no such file: {}", path.display())
}

/// The directory and name of a file's path.
fn split(path: &Path) -> Result<(&Path, String), String> {
    match (path.parent(), path.file_name()) {
        (Some(dir), Some(name)) => Ok((dir, name.to_string_lossy().into_owned())),
        _ => Err(format!("not a file's path: {}", path.display())),
    }
}

impl Mirror {
    pub const fn new() -> Mirror {
        Mirror {
            dirs: Mutex::new(BTreeMap::new()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<PathBuf, Dir>> {
        self.dirs.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` on the model of `dir`, listing it first if this is its first
    /// use. The lock is not held while the main thread is asked.
    fn with_dir<R>(
        &self,
        main: &dyn MainThread,
        dir: &Path,
        f: impl FnOnce(&mut Dir) -> R,
    ) -> Result<R, String> {
        if !self.lock().contains_key(dir) {
            let listed = main.list(dir)?;
            self.lock().entry(dir.to_path_buf()).or_insert_with(|| {
                listed
                    .into_iter()
                    .map(|l| {
                        let file = File {
                            len: l.len,
                            modified: l.modified,
                        };
                        (l.name, file)
                    })
                    .collect()
            });
        }
        Ok(f(self.lock().entry(dir.to_path_buf()).or_default()))
    }

    fn file(&self, main: &dyn MainThread, path: &Path) -> Result<Option<File>, String> {
        let (dir, name) = split(path)?;
        self.with_dir(main, dir, |d| d.get(&name).copied())
    }

    /// The file's bytes (at most `max` + 1), None if the model or the
    /// directory does not have it.
    pub fn read(
        &self,
        main: &dyn MainThread,
        path: &Path,
        max: u64,
    ) -> Result<Option<Vec<u8>>, String> {
        let Some(file) = self.file(main, path)? else {
            return Ok(None);
        };
        let bytes = main.read(path, file.len, max)?;
        if bytes.is_none() {
            let (dir, name) = split(path)?;
            self.with_dir(main, dir, |d| d.remove(&name))?;
        }
        Ok(bytes)
    }

    /// Creates `path` with `data`; false if it exists already.
    pub fn write_new(
        &self,
        main: &dyn MainThread,
        path: &Path,
        data: &[u8],
    ) -> Result<bool, String> {
        let (dir, name) = split(path)?;
        let file = File {
            len: data.len() as u64,
            modified: SystemTime::now(),
        };
        let created = self.with_dir(main, dir, |d| match d.entry(name.clone()) {
            std::collections::btree_map::Entry::Occupied(_) => false,
            std::collections::btree_map::Entry::Vacant(v) => {
                v.insert(file);
                true
            }
        })?;
        if !created {
            return Ok(false);
        }
        if let Err(e) = main.post(Change::Create(path, data)) {
            self.with_dir(main, dir, |d| d.remove(&name))?;
            return Err(e);
        }
        Ok(true)
    }

    pub fn rename(&self, main: &dyn MainThread, from: &Path, to: &Path) -> Result<(), String> {
        let (from_dir, from_name) = split(from)?;
        let (to_dir, to_name) = split(to)?;
        let file = self.file(main, from)?.ok_or_else(|| no_such_file(from))?;
        // Listed before the change is posted, so that the listing cannot
        // already hold the renamed file.
        self.with_dir(main, to_dir, |_| ())?;
        main.post(Change::Rename(from, to))?;
        self.with_dir(main, from_dir, |d| d.remove(&from_name))?;
        self.with_dir(main, to_dir, |d| d.insert(to_name, file))?;
        Ok(())
    }

    pub fn remove(&self, main: &dyn MainThread, path: &Path) -> Result<(), String> {
        let (dir, name) = split(path)?;
        if self.file(main, path)?.is_none() {
            return Err(no_such_file(path));
        }
        main.post(Change::Remove(path))?;
        self.with_dir(main, dir, |d| d.remove(&name))?;
        Ok(())
    }

    /// Marks the file used now (if it exists).
    pub fn touch(&self, main: &dyn MainThread, path: &Path) {
        let Ok((dir, name)) = split(path) else { return };
        if !matches!(self.file(main, path), Ok(Some(_))) || main.post(Change::Touch(path)).is_err()
        {
            return;
        }
        let _ = self.with_dir(main, dir, |d| {
            if let Some(f) = d.get_mut(&name) {
                f.modified = SystemTime::now();
            }
        });
    }

    pub fn mkdir_all(&self, main: &dyn MainThread, dir: &Path) -> Result<(), String> {
        self.with_dir(main, dir, |_| ())?;
        main.post(Change::MkdirAll(dir))
    }

    /// The files of `dir` as the model has them.
    pub fn list(&self, main: &dyn MainThread, dir: &Path) -> Result<Vec<Listed>, String> {
        self.with_dir(main, dir, |d| {
            d.iter()
                .map(|(name, f)| Listed {
                    name: name.clone(),
                    len: f.len,
                    modified: f.modified,
                })
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::collections::VecDeque;

    /// A posted change: operation (c, r, x, t, m), paths, bytes.
    type Queued = (u8, PathBuf, PathBuf, Vec<u8>);

    /// A main thread with its own files, that applies posted changes only
    /// when `apply` is called, and counts the calls that wait.
    #[derive(Default)]
    struct Main {
        files: RefCell<BTreeMap<PathBuf, Vec<u8>>>,
        queue: RefCell<VecDeque<Queued>>,
        lists: RefCell<usize>,
        reads: RefCell<usize>,
        full: RefCell<bool>,
    }

    impl Main {
        fn apply(&self) {
            let mut files = self.files.borrow_mut();
            for (op, a, b, data) in self.queue.borrow_mut().drain(..) {
                match op {
                    b'c' => {
                        files.insert(a, data);
                    }
                    b'r' => {
                        if let Some(d) = files.remove(&a) {
                            files.insert(b, d);
                        }
                    }
                    b'x' => {
                        files.remove(&a);
                    }
                    _ => {}
                }
            }
        }
        fn waits(&self) -> (usize, usize) {
            (*self.lists.borrow(), *self.reads.borrow())
        }
    }

    impl MainThread for Main {
        fn list(&self, dir: &Path) -> Result<Vec<Listed>, String> {
            *self.lists.borrow_mut() += 1;
            Ok(self
                .files
                .borrow()
                .iter()
                .filter(|(p, _)| p.parent() == Some(dir))
                .map(|(p, d)| Listed {
                    name: p.file_name().unwrap().to_string_lossy().into_owned(),
                    len: d.len() as u64,
                    modified: SystemTime::UNIX_EPOCH,
                })
                .collect())
        }
        fn read(&self, path: &Path, _len: u64, _max: u64) -> Result<Option<Vec<u8>>, String> {
            *self.reads.borrow_mut() += 1;
            Ok(self.files.borrow().get(path).cloned())
        }
        fn post(&self, change: Change<'_>) -> Result<(), String> {
            if *self.full.borrow() {
                return Err("out of memory".into());
            }
            let item = match change {
                Change::Create(p, d) => (b'c', p.into(), PathBuf::new(), d.to_vec()),
                Change::Rename(a, b) => (b'r', a.into(), b.into(), Vec::new()),
                Change::Remove(p) => (b'x', p.into(), PathBuf::new(), Vec::new()),
                Change::Touch(p) => (b't', p.into(), PathBuf::new(), Vec::new()),
                Change::MkdirAll(p) => (b'm', p.into(), PathBuf::new(), Vec::new()),
            };
            self.queue.borrow_mut().push_back(item);
            Ok(())
        }
    }

    fn names(m: &Mirror, main: &Main, dir: &str) -> Vec<String> {
        m.list(main, Path::new(dir))
            .unwrap()
            .into_iter()
            .map(|l| l.name)
            .collect()
    }

    #[test]
    fn a_directory_is_listed_once_and_misses_do_not_wait() {
        let main = Main::default();
        main.files
            .borrow_mut()
            .insert("/c/old".into(), b"old".to_vec());
        let m = Mirror::new();
        for name in ["/c/a", "/c/b", "/c/a"] {
            assert_eq!(m.read(&main, Path::new(name), 100).unwrap(), None);
        }
        assert_eq!(main.waits(), (1, 0), "one listing, no reads");
        assert_eq!(
            m.read(&main, Path::new("/c/old"), 100).unwrap().as_deref(),
            Some(&b"old"[..])
        );
        assert_eq!(main.waits(), (1, 1), "a name the model holds is read");
        assert_eq!(m.read(&main, Path::new("/d/x"), 100).unwrap(), None);
        assert_eq!(main.waits(), (2, 1), "another directory is listed");
    }

    #[test]
    fn changes_are_seen_at_once_and_applied_in_order_later() {
        let main = Main::default();
        let m = Mirror::new();
        m.mkdir_all(&main, Path::new("/c")).unwrap();
        assert!(m
            .write_new(&main, Path::new("/c/.t.tmp"), b"entry")
            .unwrap());
        assert!(
            !m.write_new(&main, Path::new("/c/.t.tmp"), b"other")
                .unwrap(),
            "the model knows the file exists before the main thread made it"
        );
        m.rename(&main, Path::new("/c/.t.tmp"), Path::new("/c/k.avmjit"))
            .unwrap();
        assert_eq!(names(&m, &main, "/c"), ["k.avmjit"]);
        let l = m.list(&main, Path::new("/c")).unwrap();
        assert_eq!(l[0].len, 5);
        assert!(main.files.borrow().is_empty(), "nothing applied yet");
        main.apply();
        let files = main.files.borrow().clone();
        assert_eq!(files.len(), 1);
        assert_eq!(files[Path::new("/c/k.avmjit")], b"entry");
        assert_eq!(
            m.read(&main, Path::new("/c/k.avmjit"), 100)
                .unwrap()
                .as_deref(),
            Some(&b"entry"[..])
        );
        m.remove(&main, Path::new("/c/k.avmjit")).unwrap();
        assert!(names(&m, &main, "/c").is_empty());
        main.apply();
        assert!(main.files.borrow().is_empty());
        assert_eq!(main.waits().0, 1, "listed once");
    }

    #[test]
    fn a_file_missing_on_the_main_thread_is_a_miss_and_dropped() {
        let main = Main::default();
        let m = Mirror::new();
        assert!(m.write_new(&main, Path::new("/c/k"), b"x").unwrap());
        main.queue.borrow_mut().clear(); // the main thread failed to apply it
        assert_eq!(m.read(&main, Path::new("/c/k"), 100).unwrap(), None);
        assert!(names(&m, &main, "/c").is_empty());
        let reads = main.waits().1;
        assert_eq!(m.read(&main, Path::new("/c/k"), 100).unwrap(), None);
        assert_eq!(main.waits().1, reads, "the next miss does not wait");
    }

    #[test]
    fn refusals_leave_the_model_as_it_was() {
        let main = Main::default();
        let m = Mirror::new();
        assert!(m.remove(&main, Path::new("/c/none")).is_err());
        assert!(m
            .rename(&main, Path::new("/c/none"), Path::new("/c/to"))
            .is_err());
        assert!(m.read(&main, Path::new("/"), 100).is_err(), "not a file");
        *main.full.borrow_mut() = true;
        assert!(m.write_new(&main, Path::new("/c/k"), b"x").is_err());
        assert!(
            names(&m, &main, "/c").is_empty(),
            "a write not posted is not in the model"
        );
        *main.full.borrow_mut() = false;
        assert!(m.write_new(&main, Path::new("/c/k"), b"x").unwrap());
        m.touch(&main, Path::new("/c/none"));
        assert_eq!(
            main.queue.borrow().len(),
            1,
            "no touch posted for a missing file"
        );
    }
}
