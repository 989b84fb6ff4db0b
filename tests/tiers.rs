//! Modules loaded cold, against the fake engine: placed as they came at
//! load (where the engine refuses what it would refuse), answered from
//! that placement until a thread has looked them up `AFTER` times, then
//! from the rewritten module placed beside it; the first placement stays
//! until release, which drops both; refusals and exceptions on the way
//! leave the module running as it came.

use atomvm_wasm_jit::engine::{self, FAKE_TABLE};
use atomvm_wasm_jit::error::{Error, ErrorKind};
use atomvm_wasm_jit::registry::{self, ModuleId, HOT_ID};
use atomvm_wasm_jit::testgen::{self, ModuleSpec};
use wasm_encoder::{EntityType, MemoryType, RefType, TableType};

/// Every test here loads with this count (the same for all, so tests
/// running at once do not disturb each other).
const AFTER: u32 = 10;

fn load(bytes: &[u8]) -> Result<ModuleId, Error> {
    engine::set_tier_up(AFTER);
    registry::load(bytes)
}

fn load_chain(n: u32) -> ModuleId {
    load(&testgen::stream_of(&testgen::chain(n))).expect("chain loads")
}

fn slot(index: u32) -> Option<(u32, u32)> {
    FAKE_TABLE.with_borrow(|t| t.slots.get(index as usize).copied().flatten())
}

fn calls() -> u64 {
    FAKE_TABLE.with_borrow(|t| t.calls)
}

fn placed_here() -> usize {
    FAKE_TABLE.with_borrow(|t| t.placed.len())
}

fn cold(id: ModuleId, label: u32) -> Option<(u32, u32)> {
    Some((id.get(), label))
}

fn hot(id: ModuleId, label: u32) -> Option<(u32, u32)> {
    Some((id.get() | HOT_ID, label))
}

#[test]
fn a_cold_module_is_placed_at_load_and_rewritten_once_hot() {
    std::thread::spawn(|| {
        let before = calls();
        let id = load_chain(20);
        assert_eq!(calls(), before + 1, "placed at load, on the loading thread");
        let mut first = 0;
        for i in 0..AFTER {
            let index = registry::entry_point(id, 3).unwrap();
            assert_eq!(slot(index), cold(id, 3), "look-up {i} answers as it came");
            first = index;
        }
        assert_eq!(calls(), before + 1, "counting calls nothing");
        let index = registry::entry_point(id, 3).unwrap();
        assert_eq!(slot(index), hot(id, 3), "the look-up after the count");
        assert_eq!(calls(), before + 2, "one placement of the rewritten module");
        for label in (0..20).cycle().take(10_000) {
            let index = registry::entry_point(id, label).unwrap();
            assert_eq!(slot(index), hot(id, label));
        }
        assert_eq!(calls(), before + 2, "a settled module calls nothing");
        assert_eq!(slot(first), cold(id, 3), "the first placement stays");
        let hot_index = index;
        registry::release(id).unwrap();
        assert_eq!((slot(first), slot(hot_index)), (None, None));
        assert_eq!((placed_here(), registry::local_count()), (0, 0));
    })
    .join()
    .unwrap();
}

#[test]
fn other_threads_count_for_themselves_and_place_what_is_made() {
    let id = load_chain(8);
    // A thread that places it before it is hot counts from its own start.
    let (to_main, from_worker) = std::sync::mpsc::channel();
    let (to_worker, from_main) = std::sync::mpsc::channel::<()>();
    let early = std::thread::spawn(move || {
        let index = registry::entry_point(id, 2).unwrap();
        to_main.send(slot(index)).unwrap();
        from_main.recv().unwrap(); // made hot on the main thread meanwhile
        let mut seen = Vec::new();
        for _ in 0..AFTER + 1 {
            let index = registry::entry_point(id, 2).unwrap();
            seen.push(slot(index));
        }
        seen
    });
    assert_eq!(from_worker.recv().unwrap(), cold(id, 2));
    for _ in 0..=AFTER {
        registry::entry_point(id, 1).unwrap();
    }
    assert_eq!(slot(registry::entry_point(id, 1).unwrap()), hot(id, 1));
    to_worker.send(()).unwrap();
    let seen = early.join().unwrap();
    // The first look-up placed it and counted; AFTER - 1 more, then hot.
    assert!(
        seen[..AFTER as usize - 1].iter().all(|s| *s == cold(id, 2)),
        "{seen:?}"
    );
    assert_eq!(seen[AFTER as usize], hot(id, 2), "{seen:?}");
    // A thread that places it after it is hot places the rewritten module.
    let late = std::thread::spawn(move || slot(registry::entry_point(id, 5).unwrap()));
    assert_eq!(late.join().unwrap(), hot(id, 5));
    registry::release(id).unwrap();
}

#[test]
fn counts_survive_modules_sharing_a_cache_line() {
    std::thread::spawn(|| {
        let a = load_chain(2);
        let mut others = Vec::new();
        let b = loop {
            let m = load_chain(2);
            if m.get() % 256 == a.get() % 256 {
                break m;
            }
            others.push(m);
        };
        // Each look-up of one takes the line from the other.
        for _ in 0..=AFTER {
            registry::entry_point(a, 1).unwrap();
            registry::entry_point(b, 1).unwrap();
        }
        assert_eq!(slot(registry::entry_point(a, 1).unwrap()), hot(a, 1));
        assert_eq!(slot(registry::entry_point(b, 1).unwrap()), hot(b, 1));
        for m in others.into_iter().chain([a, b]) {
            registry::release(m).unwrap();
        }
        assert_eq!((placed_here(), registry::local_count()), (0, 0));
    })
    .join()
    .unwrap();
}

#[test]
fn a_rewritten_module_the_engine_refuses_leaves_the_first_placement() {
    std::thread::spawn(|| {
        let id = load_chain(6);
        for _ in 0..AFTER {
            registry::entry_point(id, 4).unwrap();
        }
        FAKE_TABLE.with_borrow_mut(|t| t.fail_next = Some("LinkError: refused".into()));
        let index = registry::entry_point(id, 4).expect("the module still answers");
        assert_eq!(slot(index), cold(id, 4));
        let before = calls();
        for _ in 0..1000 {
            assert_eq!(slot(registry::entry_point(id, 4).unwrap()), cold(id, 4));
        }
        assert_eq!(calls(), before, "it stopped counting: no retry");
        registry::release(id).unwrap();
        assert_eq!((placed_here(), registry::local_count()), (0, 0));
    })
    .join()
    .unwrap();
}

#[test]
fn an_exception_in_the_tier_up_leaves_the_thread_usable() {
    std::thread::spawn(|| {
        let id = load_chain(6);
        for _ in 0..AFTER {
            registry::entry_point(id, 4).unwrap();
        }
        FAKE_TABLE.with_borrow_mut(|t| t.throw_next = true);
        let thrown = std::panic::catch_unwind(|| registry::entry_point(id, 4));
        assert!(thrown.is_err(), "the simulated exception went through");
        let index = registry::entry_point(id, 4).expect("answers after the exception");
        assert_eq!(slot(index), hot(id, 4), "placed again, this time whole");
        let other = load_chain(3);
        registry::entry_point(other, 2).unwrap();
        registry::release(other).unwrap();
        registry::release(id).unwrap();
        assert_eq!((placed_here(), registry::local_count()), (0, 0));
    })
    .join()
    .unwrap();
}

#[test]
fn an_exception_in_the_placement_at_load_leaves_nothing_behind() {
    std::thread::spawn(|| {
        FAKE_TABLE.with_borrow_mut(|t| t.throw_next = true);
        let bytes = testgen::stream_of(&testgen::chain(4));
        let thrown = std::panic::catch_unwind(|| load(&bytes));
        assert!(thrown.is_err(), "the simulated exception went through");
        // The thread goes on; the interrupted module never became live, so
        // the next release (here, of another module) drops it.
        let id = load_chain(4);
        assert_eq!(slot(registry::entry_point(id, 1).unwrap()), cold(id, 1));
        registry::release(id).unwrap();
        assert_eq!((placed_here(), registry::local_count()), (0, 0));
    })
    .join()
    .unwrap();
}

#[test]
fn every_bad_stream_is_refused_at_load_when_loaded_cold() {
    for (name, bytes, expected) in testgen::bad_streams() {
        let err = load(&bytes).expect_err(name);
        assert!(
            err.message().contains(expected),
            "{name}: {:?} lacks {expected:?}",
            err.message()
        );
    }
}

fn memory(minimum: u64, maximum: Option<u64>, shared: bool) -> EntityType {
    EntityType::Memory(MemoryType {
        minimum,
        maximum,
        memory64: false,
        shared,
        page_size_log2: None,
    })
}

fn table(minimum: u64, maximum: Option<u64>, shared: bool) -> EntityType {
    EntityType::Table(TableType {
        element_type: RefType::FUNCREF,
        minimum,
        maximum,
        table64: false,
        shared,
    })
}

/// A countdown module with import `i` replaced.
fn with_import(i: usize, ty: EntityType) -> ModuleSpec {
    let mut spec = testgen::countdown();
    spec.imports[i].2 = ty;
    spec
}

/// Each import the cold load adapts, with limits the engine refuses (one
/// case for each of `rewrite::imports_refused`'s guards) and the nearest
/// limits it accepts: the cold load agrees with the engine on the module as
/// it came, and with a load rewritten at load.
#[test]
fn adapting_the_imports_never_turns_a_refusal_into_a_load() {
    let cases: Vec<(&str, ModuleSpec, bool)> = vec![
        (
            "memory over 4 GiB",
            with_import(0, memory(65537, None, false)),
            false,
        ),
        (
            "memory maximum over 4 GiB",
            with_import(0, memory(1, Some(65537), false)),
            false,
        ),
        (
            "memory at 4 GiB",
            with_import(0, memory(65536, Some(65536), false)),
            true,
        ),
        (
            "memory minimum over maximum",
            with_import(0, memory(300, Some(10), false)),
            false,
        ),
        (
            "memory minimum at maximum",
            with_import(0, memory(10, Some(10), false)),
            true,
        ),
        (
            "shared memory without maximum",
            with_import(0, memory(1, None, true)),
            false,
        ),
        (
            "shared memory with maximum",
            with_import(0, memory(1, Some(2), true)),
            true,
        ),
        (
            "shared table",
            with_import(1, table(0, Some(1), true)),
            false,
        ),
        (
            "table minimum over maximum",
            with_import(1, table(5, Some(4), false)),
            false,
        ),
        (
            "table minimum at maximum",
            with_import(1, table(4, Some(4), false)),
            true,
        ),
    ];
    for (name, spec, valid) in cases {
        let wasm = spec.encode();
        assert_eq!(
            engine::engine_verdict(&wasm).is_ok(),
            valid,
            "{name}: the engine"
        );
        let bytes = testgen::stream_of(&spec);
        let cold = load(&bytes);
        assert_eq!(cold.is_ok(), valid, "{name}: loaded cold: {cold:?}");
        if let Err(e) = &cold {
            assert_eq!(e.kind(), ErrorKind::BadModule, "{name}");
            assert!(e.message().starts_with("CompileError: "), "{name}: {e}");
        }
        let prepared = registry::prepare(&bytes, engine::rewrite_options());
        assert_eq!(prepared.is_ok(), valid, "{name}: rewritten at load");
        if let Ok(id) = cold {
            registry::release(id).unwrap();
        }
    }
}
