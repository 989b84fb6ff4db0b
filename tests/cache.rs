//! The native-code cache (issue 12): hit, miss, eviction, every kind of
//! damaged entry, another build's entry, writers in several processes, and
//! a directory that cannot be written. Through Rust and through the C ABI.

use atomvm_wasm_jit::cache::{self, Cache, Entry, Key, Lookup};
use atomvm_wasm_jit::error::ErrorKind;
use atomvm_wasm_jit::{ffi, testgen};
use std::ffi::CString;
use std::path::{Path, PathBuf};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("avmjit-cache-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn stream() -> Vec<u8> {
    testgen::stream_of(&testgen::switch_b())
}

fn entry() -> Entry {
    Entry {
        version: 1,
        labels: 3,
        stream: stream(),
    }
}

const BEAM: &[u8] = b"FOR1\0\0\0\x10BEAMAtU8 a module";

fn key() -> Key {
    Key::of(BEAM, cache::build_key(b"AtomVM test", &[1, 2, 3]))
}

fn hit(cache: &Cache, key: &Key) -> Entry {
    match cache.get(key) {
        Lookup::Hit(e) => e,
        other => panic!("expected a hit, got {other:?}"),
    }
}

#[test]
fn an_entry_is_found_by_module_and_build_and_by_nothing_else() {
    let c = Cache::new(temp_dir("hit"));
    assert!(matches!(c.get(&key()), Lookup::Miss), "empty cache");
    c.put(&key(), &entry()).unwrap();
    assert_eq!(hit(&c, &key()), entry());
    // Another module, another build: misses.
    let other_module = Key::of(b"FOR1 another", key().build);
    assert!(matches!(c.get(&other_module), Lookup::Miss));
    let other_build = Key::of(BEAM, cache::build_key(b"AtomVM test", &[1, 2, 4]));
    assert!(matches!(c.get(&other_build), Lookup::Miss));
    let other_version = Key::of(BEAM, cache::build_key(b"AtomVM other", &[1, 2, 3]));
    assert!(matches!(c.get(&other_version), Lookup::Miss));
    // Still there for the right key.
    assert_eq!(hit(&c, &key()), entry());
}

#[test]
fn an_entry_of_another_build_under_this_name_is_refused_and_removed() {
    let c = Cache::new(temp_dir("foreign"));
    let foreign = Key::of(BEAM, 0x1234);
    c.put(&foreign, &entry()).unwrap();
    std::fs::rename(c.path_of(&foreign), c.path_of(&key())).unwrap();
    match c.get(&key()) {
        Lookup::Refused(e) => {
            assert_eq!(e.kind(), ErrorKind::Cache);
            assert!(e.message().contains("another build"), "{e}");
        }
        other => panic!("{other:?}"),
    }
    assert!(!c.path_of(&key()).exists(), "removed");
}

/// Every way an entry's bytes can be damaged: each header field, the
/// checksum, the stream, truncation at every length, growth.
#[test]
fn every_damaged_entry_is_refused_with_a_message_and_removed() {
    let c = Cache::new(temp_dir("corrupt"));
    let k = key();
    c.put(&k, &entry()).unwrap();
    let good = std::fs::read(c.path_of(&k)).unwrap();
    let mut cases: Vec<(String, Vec<u8>)> = Vec::new();
    for at in 0..good.len() {
        let mut b = good.clone();
        b[at] ^= 0x40;
        cases.push((format!("byte {at} flipped"), b));
    }
    for len in [0, 1, 7, 8, 40, 55, 56, good.len() - 1] {
        cases.push((format!("truncated to {len}"), good[..len].to_vec()));
    }
    let mut longer = good.clone();
    longer.push(0);
    cases.push(("one byte more".into(), longer));
    for (name, bytes) in cases {
        std::fs::write(c.path_of(&k), &bytes).unwrap();
        match c.get(&k) {
            Lookup::Refused(e) => assert!(e.message().starts_with("cache"), "{name}: {e}"),
            other => panic!("{name}: {other:?}"),
        }
        assert!(!c.path_of(&k).exists(), "{name}: not removed");
    }
}

#[test]
fn decode_never_panics_on_short_or_odd_input() {
    let k = key();
    let good = cache::encode(&k, &entry()).unwrap();
    for len in 0..good.len() {
        assert!(cache::decode(&good[..len], &k).is_err(), "{len}");
    }
    assert_eq!(cache::decode(&good, &k).unwrap(), entry());
}

#[test]
fn the_least_recently_used_entries_go_first_past_the_bound() {
    let dir = temp_dir("lru");
    let one = cache::encode(&key(), &entry()).unwrap().len() as u64;
    let c = Cache {
        dir: dir.clone(),
        max_bytes: 3 * one,
    };
    let keys: Vec<Key> = (0..5u8)
        .map(|i| Key::of(&[BEAM, &[i]].concat(), key().build))
        .collect();
    let t0 = std::time::SystemTime::now() - std::time::Duration::from_secs(100);
    for (i, k) in keys.iter().take(3).enumerate() {
        c.put(k, &entry()).unwrap();
        set_age(&c.path_of(k), t0 + std::time::Duration::from_secs(i as u64));
    }
    // Using entry 0 makes entry 1 the least recently used.
    hit(&c, &keys[0]);
    c.put(&keys[3], &entry()).unwrap();
    let present: Vec<bool> = keys.iter().map(|k| c.path_of(k).exists()).collect();
    assert_eq!(present, [true, false, true, true, false]);
    c.put(&keys[4], &entry()).unwrap();
    let present: Vec<bool> = keys.iter().map(|k| c.path_of(k).exists()).collect();
    assert_eq!(present, [true, false, false, true, true]);
    assert_eq!(c.clear().unwrap(), 3);
    assert!(matches!(c.get(&keys[0]), Lookup::Miss));
}

fn set_age(path: &Path, t: std::time::SystemTime) {
    let f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    f.set_modified(t).unwrap();
}

#[test]
fn a_directory_that_cannot_be_written_gives_an_error_not_a_crash() {
    // The cache path is a file: nothing can be created under it (as on a
    // full disk, the write fails and the load goes on without the cache).
    let file = temp_dir("blocked");
    std::fs::write(&file, b"not a directory").unwrap();
    let c = Cache::new(file.join("cache"));
    let e = c.put(&key(), &entry()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Cache);
    assert!(e.message().contains("cannot create"), "{e}");
    assert!(matches!(c.get(&key()), Lookup::Miss | Lookup::Refused(_)));
    let _ = std::fs::remove_file(&file);
}

/// A writer process for the test below: writes the same key 100 times.
#[test]
#[ignore]
fn writer_process() {
    let Ok(dir) = std::env::var("AVMJIT_CACHE_WRITER_DIR") else {
        return;
    };
    let c = Cache::new(dir);
    for _ in 0..100 {
        c.put(&key(), &entry()).unwrap();
    }
}

#[test]
fn processes_writing_the_same_key_never_show_a_torn_entry() {
    let dir = temp_dir("processes");
    std::fs::create_dir_all(&dir).unwrap();
    let writers: Vec<_> = (0..3)
        .map(|_| {
            std::process::Command::new(std::env::current_exe().unwrap())
                .args(["--ignored", "--exact", "writer_process", "--test-threads=1"])
                .env("AVMJIT_CACHE_WRITER_DIR", &dir)
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    let c = Cache::new(&dir);
    let mut hits = 0;
    for _ in 0..2000 {
        match c.get(&key()) {
            Lookup::Hit(e) => {
                assert_eq!(e, entry());
                hits += 1;
            }
            Lookup::Miss => {}
            Lookup::Refused(e) => panic!("a reader saw {e}"),
        }
    }
    for mut w in writers {
        assert!(w.wait().unwrap().success());
    }
    assert_eq!(hit(&c, &key()), entry());
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .filter(|n| n.to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    eprintln!("{hits} of 2000 reads hit while 3 processes wrote");
}

/// The hooks through the C ABI, as the shim calls them: a run-time stream
/// is stored by `sys_set_cache_native_code`'s work and found again by
/// `sys_get_cache_native_code`'s; a damaged entry is a miss with a message,
/// and the next run-time compilation stores it again.
#[test]
fn the_c_abi_stores_a_runtime_stream_and_loads_it_back() {
    let dir = temp_dir("ffi");
    let c_dir = CString::new(dir.to_str().unwrap()).unwrap();
    let build = CString::new("AtomVM test-build jit-format 1").unwrap();
    let s = stream();
    let (mut version, mut labels) = (0u16, 0u32);
    // SAFETY (whole test): every pointer is to a live local of the given
    // size, strings are NUL-terminated.
    unsafe {
        ffi::atomvm_wasm_jit_set_cache_dir(c_dir.as_ptr(), 0);
        let get = |v: &mut u16, l: &mut u32| {
            ffi::atomvm_wasm_jit_cache_get(BEAM.as_ptr(), BEAM.len(), build.as_ptr(), v, l)
        };
        assert!(get(&mut version, &mut labels).is_null(), "miss first");
        // A stream loaded from a module file is not stored.
        let from_file = ffi::sys_map_native_code(s.as_ptr(), s.len());
        assert!(!ffi::atomvm_wasm_jit_cache_put(
            BEAM.as_ptr(),
            BEAM.len(),
            build.as_ptr(),
            1,
            from_file,
            3
        ));
        let nc = ffi::atomvm_wasm_jit_map_runtime_stream(s.as_ptr(), s.len());
        assert!(!nc.is_null());
        assert!(ffi::atomvm_wasm_jit_cache_put(
            BEAM.as_ptr(),
            BEAM.len(),
            build.as_ptr(),
            1,
            nc,
            3
        ));
        let cached = get(&mut version, &mut labels);
        assert!(!cached.is_null(), "hit");
        assert_eq!((version, labels), (1, 3));
        assert!(!ffi::jit_wasm_get_entry_point(cached, 2).is_null());
        ffi::sys_release_native_code(cached);
        // Damage the entry: a miss, a message, no file.
        let file = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .next()
            .unwrap()
            .path();
        let mut bytes = std::fs::read(&file).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        std::fs::write(&file, &bytes).unwrap();
        assert!(get(&mut version, &mut labels).is_null(), "damaged");
        let message = std::ffi::CStr::from_ptr(ffi::atomvm_wasm_jit_last_error());
        assert!(
            message.to_string_lossy().contains("checksum"),
            "{message:?}"
        );
        assert!(!file.exists());
        // A labels count past the stream's entries is refused too.
        let k = cache::key_for(BEAM, build.as_bytes());
        let wrong = Entry {
            labels: 1000,
            ..entry()
        };
        Cache::new(&dir).put(&k, &wrong).unwrap();
        assert!(get(&mut version, &mut labels).is_null(), "labels");
        assert!(!file.exists());
        // Switched off: nothing is read or written.
        ffi::atomvm_wasm_jit_set_cache_dir(std::ptr::null(), 0);
        let nc2 = ffi::atomvm_wasm_jit_map_runtime_stream(s.as_ptr(), s.len());
        assert!(!ffi::atomvm_wasm_jit_cache_put(
            BEAM.as_ptr(),
            BEAM.len(),
            build.as_ptr(),
            1,
            nc2,
            3
        ));
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
        ffi::atomvm_wasm_jit_set_cache_dir(c_dir.as_ptr(), 0);
        assert!(get(&mut version, &mut labels).is_null());
        assert_eq!(ffi::atomvm_wasm_jit_cache_clear(), 0);
        ffi::sys_release_native_code(nc);
        ffi::sys_release_native_code(nc2);
        ffi::sys_release_native_code(from_file);
        ffi::atomvm_wasm_jit_set_cache_dir(std::ptr::null(), 0);
    }
}

#[test]
fn an_entry_larger_than_the_whole_bound_is_not_kept() {
    // A quota smaller than one entry: the write succeeds, eviction removes
    // it, and the next load is a plain miss.
    let c = Cache {
        dir: temp_dir("quota"),
        max_bytes: 16,
    };
    c.put(&key(), &entry()).unwrap();
    assert!(matches!(c.get(&key()), Lookup::Miss));
    assert_eq!(std::fs::read_dir(&c.dir).unwrap().count(), 0);
}
