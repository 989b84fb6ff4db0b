//! The default tier-up count, against the fake engine: a module loaded with
//! the automatic setting turns hot after one look-up per
//! `AUTO_BYTES_PER_LOOK_UP` bytes of its wasm, and never before
//! `AUTO_MIN_LOOK_UPS`. (Its own test binary: the setting is global, and
//! `tiers.rs` pins a fixed count.)

use atomvm_wasm_jit::engine::{self, FAKE_TABLE, TIER_UP_AUTO};
use atomvm_wasm_jit::registry::{self, ModuleId, HOT_ID};
use atomvm_wasm_jit::{stream, testgen};

/// Look-ups of label 1 answered as the module came, before the first one
/// answered from the rewritten module (on a fresh thread).
fn look_ups_until_hot(id: ModuleId, limit: u32) -> u32 {
    std::thread::spawn(move || {
        for n in 0..limit {
            let index = registry::entry_point(id, 1).expect("look-up");
            let (engine_id, label) = FAKE_TABLE
                .with_borrow(|t| t.slots[index as usize])
                .expect("a placed slot");
            assert_eq!(label, 1);
            if engine_id == id.get() | HOT_ID {
                return n;
            }
        }
        panic!("not hot after {limit} look-ups");
    })
    .join()
    .unwrap()
}

#[test]
fn the_automatic_count_grows_with_the_module_size() {
    if std::env::var_os("ATOMVM_WASM_JIT_TIER_UP").is_none() {
        assert_eq!(engine::tier_up_setting(), TIER_UP_AUTO, "the default");
    }
    engine::set_tier_up(TIER_UP_AUTO);
    for labels in [2, 3000] {
        let bytes = testgen::stream_of(&testgen::chain(labels));
        let wasm_len = stream::parse(&bytes).unwrap().wasm.len();
        let expected = u32::try_from(wasm_len / engine::AUTO_BYTES_PER_LOOK_UP)
            .unwrap()
            .max(engine::AUTO_MIN_LOOK_UPS);
        assert_eq!(engine::tier_up_after(TIER_UP_AUTO, wasm_len), expected);
        let id = registry::load(&bytes).unwrap();
        let n = look_ups_until_hot(id, 1_000_000);
        assert_eq!(n, expected, "{labels} labels, {wasm_len} bytes");
        registry::release(id).unwrap();
    }
    // A count set exactly is used as it is, whatever the size.
    engine::set_tier_up(7);
    let id = registry::load(&testgen::stream_of(&testgen::chain(3000))).unwrap();
    assert_eq!(look_ups_until_hot(id, 1000), 7);
    registry::release(id).unwrap();
}
