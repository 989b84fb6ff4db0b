//! The registry against the fake engine: lazy per-thread placement, distinct
//! slots, release on every thread, stale handles, and slot reuse, for
//! modules rewritten at load (`tiers.rs` has those loaded cold).

use atomvm_wasm_jit::engine::FAKE_TABLE;
use atomvm_wasm_jit::error::{Error, ErrorKind};
use atomvm_wasm_jit::registry::{self, ModuleId};
use atomvm_wasm_jit::testgen;

fn slot(index: u32) -> Option<(u32, u32)> {
    FAKE_TABLE.with_borrow(|t| t.slots.get(index as usize).copied().flatten())
}

fn table_len() -> usize {
    FAKE_TABLE.with_borrow(|t| t.slots.len())
}

/// Every test here loads with modules rewritten at load (the same setting
/// for all, so tests running at once do not disturb each other).
fn load(bytes: &[u8]) -> Result<ModuleId, Error> {
    atomvm_wasm_jit::engine::set_tier_up(0);
    registry::load(bytes)
}

fn load_chain(n: u32) -> ModuleId {
    load(&testgen::stream_of(&testgen::chain(n))).expect("chain loads")
}

fn kind(r: Result<u32, Error>) -> ErrorKind {
    r.expect_err("must fail").kind()
}

#[test]
fn every_label_resolves_to_its_own_slot() {
    let id = load_chain(50);
    let mut seen = std::collections::HashSet::new();
    for label in 0..50 {
        let index = registry::entry_point(id, label).unwrap();
        assert!(index != 0, "index 0 is the null function");
        assert_eq!(slot(index), Some((id.get(), label)));
        assert!(seen.insert(index));
        assert_eq!(registry::entry_point(id, label).unwrap(), index, "stable");
    }
    assert_eq!(kind(registry::entry_point(id, 50)), ErrorKind::BadLabel);
    registry::release(id).unwrap();
}

#[test]
fn placement_is_lazy_and_per_thread() {
    let id = load_chain(10);
    let here = registry::entry_point(id, 3).unwrap();
    let (there, there_slot) = std::thread::spawn(move || {
        let index = registry::entry_point(id, 3).unwrap();
        (index, slot(index))
    })
    .join()
    .unwrap();
    assert_eq!(slot(here), Some((id.get(), 3)));
    assert_eq!(
        there_slot,
        Some((id.get(), 3)),
        "the other thread placed it in its own table"
    );
    let _ = there;
    registry::release(id).unwrap();
}

#[test]
fn release_on_one_thread_frees_slots_on_every_thread() {
    let id = load_chain(8);
    let (to_main, from_worker) = std::sync::mpsc::channel();
    let (to_worker, from_main) = std::sync::mpsc::channel::<()>();
    let worker = std::thread::spawn(move || {
        let index = registry::entry_point(id, 5).unwrap();
        to_main.send(()).unwrap();
        from_main.recv().unwrap();
        // Released on the main thread meanwhile: the lookup must fail and the
        // slot must have been cleared before it answered.
        let err = registry::entry_point(id, 5).unwrap_err();
        (err.kind(), slot(index))
    });
    from_worker.recv().unwrap();
    registry::release(id).unwrap();
    to_worker.send(()).unwrap();
    let (err_kind, stale) = worker.join().unwrap();
    assert_eq!(err_kind, ErrorKind::BadHandle);
    assert_eq!(stale, None, "no slot of a released module resolves");
}

#[test]
fn released_and_unknown_handles_are_refused() {
    let id = load_chain(4);
    let index = registry::entry_point(id, 2).unwrap();
    registry::release(id).unwrap();
    assert_eq!(slot(index), None);
    assert_eq!(kind(registry::entry_point(id, 2)), ErrorKind::BadHandle);
    assert_eq!(
        registry::release(id).unwrap_err().kind(),
        ErrorKind::BadHandle,
        "double release"
    );
    assert!(registry::lines(id).is_err());
    let never = ModuleId::from_handle(0x7fff_fff0).unwrap();
    assert_eq!(kind(registry::entry_point(never, 0)), ErrorKind::BadHandle);
    assert!(ModuleId::from_handle(0).is_none());
}

#[test]
fn slots_are_reused_and_the_table_stays_flat() {
    // Warm up so that this thread's table has room for one module.
    let id = load_chain(30);
    registry::entry_point(id, 0).unwrap();
    registry::release(id).unwrap();
    let len = table_len();
    for _ in 0..1000 {
        let id = load_chain(30);
        let i = registry::entry_point(id, 29).unwrap();
        assert_eq!(slot(i), Some((id.get(), 29)));
        registry::release(id).unwrap();
    }
    assert_eq!(table_len(), len);
    assert_eq!(registry::local_count(), 0);
}

#[test]
fn ids_are_never_reused() {
    let a = load_chain(2);
    registry::release(a).unwrap();
    let b = load_chain(2);
    assert!(b.get() > a.get());
    registry::release(b).unwrap();
}

#[test]
fn lines_are_copied() {
    let lines = testgen::lines(&[(10, 4), (11, 8)], &[(3, 1)]);
    let spec = testgen::chain(3);
    let mut bytes = testgen::stream(3, 2, &spec.encode(), &lines);
    let id = load(&bytes).unwrap();
    bytes.iter_mut().for_each(|b| *b = 0xAA); // the stream may move or die
    let ptr = registry::lines(id).unwrap();
    // SAFETY: the registry keeps `lines.len()` bytes at `ptr` while `id` is live.
    let copy = unsafe { std::slice::from_raw_parts(ptr, lines.len()) };
    assert_eq!(copy, &lines[..]);
    registry::release(id).unwrap();

    let bare = load(&testgen::stream(3, 0, &spec.encode(), &[])).unwrap();
    assert!(registry::lines(bare).unwrap().is_null());
    registry::release(bare).unwrap();
}

#[test]
fn a_full_table_is_an_error_and_leaves_nothing_behind() {
    std::thread::spawn(|| {
        FAKE_TABLE.with_borrow_mut(|t| t.max_len = Some(40));
        let id = load_chain(60);
        let err = registry::entry_point(id, 1).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Resource, "{err}");
        assert!(err.message().contains("table cannot grow"), "{err}");
        assert!(table_len() <= 1);
        // Smaller modules still work.
        let small = load_chain(20);
        assert!(registry::entry_point(small, 19).is_ok());
        registry::release(small).unwrap();
        registry::release(id).unwrap();
    })
    .join()
    .unwrap();
}

#[test]
fn lookups_of_a_placed_module_do_not_call_the_engine() {
    let id = load_chain(20);
    registry::entry_point(id, 0).unwrap();
    let before = FAKE_TABLE.with_borrow(|t| t.calls);
    for i in 0..100_000u32 {
        registry::entry_point(id, i % 20).unwrap();
    }
    assert_eq!(FAKE_TABLE.with_borrow(|t| t.calls), before);
    registry::release(id).unwrap();
}

#[test]
fn every_bad_stream_is_refused_with_its_message() {
    let streams = testgen::bad_streams();
    assert!(streams.len() >= 14);
    for (name, bytes, expected) in streams {
        let err = load(&bytes).expect_err(name);
        assert!(
            err.message().contains(expected),
            "{name}: {:?} lacks {expected:?}",
            err.message()
        );
    }
}

#[test]
fn huge_labels_miss_without_overflow() {
    // Found by fuzzing: the sum of a cache line's base and a huge label must
    // not be computed unless the line matches.
    let a = load_chain(5);
    let b = load_chain(5);
    registry::entry_point(a, 1).unwrap();
    registry::entry_point(b, 1).unwrap();
    for label in [5, 6, u32::MAX - 1, u32::MAX] {
        assert_eq!(kind(registry::entry_point(a, label)), ErrorKind::BadLabel);
    }
    registry::release(a).unwrap();
    registry::release(b).unwrap();
}

// ---- issue 9: calls into JavaScript, and what each thread keeps ----------
//
// The fake engine asserts on every call that the registry holds neither its
// thread-local state nor the global lock (an exception would leave them held
// for good: defect 2); these tests add the cases around it.

fn placed_here() -> usize {
    FAKE_TABLE.with_borrow(|t| t.placed.len())
}

#[test]
fn an_exception_in_the_engine_leaves_the_thread_usable() {
    std::thread::spawn(|| {
        let id = load_chain(6);
        FAKE_TABLE.with_borrow_mut(|t| t.throw_next = true);
        // As a JavaScript exception would: the call never returns.
        let thrown = std::panic::catch_unwind(|| registry::entry_point(id, 1));
        assert!(thrown.is_err(), "the simulated exception went through");
        // The thread is not wedged: lookups, loads and releases work.
        let index = registry::entry_point(id, 1).expect("placed after the exception");
        assert_eq!(slot(index), Some((id.get(), 1)));
        let other = load_chain(3);
        registry::entry_point(other, 2).unwrap();
        registry::release(other).unwrap();
        registry::release(id).unwrap();
        assert_eq!(
            placed_here(),
            0,
            "the engine holds nothing after the releases"
        );
        assert_eq!(registry::local_count(), 0);
    })
    .join()
    .unwrap();
}

#[test]
fn a_failed_placement_on_another_thread_leaves_nothing_there() {
    let id = load_chain(5);
    std::thread::spawn(move || {
        FAKE_TABLE.with_borrow_mut(|t| t.fail_next = Some("LinkError: refused".into()));
        let err = registry::entry_point(id, 1).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Engine, "{err}");
        assert_eq!(placed_here(), 0, "the engine committed nothing");
        assert_eq!(registry::local_count(), 0, "nor did the registry");
    })
    .join()
    .unwrap();
    registry::release(id).unwrap();
}

#[test]
fn a_thread_that_only_loads_keeps_nothing_of_released_modules() {
    let (to_main, from_worker) = std::sync::mpsc::channel();
    let (to_worker, from_main) = std::sync::mpsc::channel::<()>();
    let worker = std::thread::spawn(move || {
        for _ in 0..20 {
            to_main.send(load_chain(4)).unwrap();
            from_main.recv().unwrap(); // released on the main thread
        }
        (placed_here(), registry::local_count())
    });
    for _ in 0..20 {
        let id = from_worker.recv().unwrap();
        registry::entry_point(id, 1).unwrap();
        registry::release(id).unwrap();
        to_worker.send(()).unwrap();
    }
    assert_eq!(worker.join().unwrap(), (0, 0));
}
