//! Loading never needs more memory than it reserved fallibly beforehand
//! (issue 9, defect 1: a valid jump-dense stream made a load peak at ~10
//! times its size and abort the VM on a failed allocation). The counting
//! allocator measures each load's peak; it must stay within what the load
//! reserved plus a few KiB.

use atomvm_wasm_jit::oracle::budget::{self, Counting};
use atomvm_wasm_jit::{memory, registry, rewrite, testgen};

#[global_allocator]
static ALLOC: Counting = Counting;

const ALL: rewrite::Options = rewrite::Options::all(true);

/// Prepares `bytes`; returns (ok, peak, reserved).
fn measured(bytes: &[u8]) -> (bool, usize, usize) {
    let (ok, peak) = budget::peak_of(|| registry::prepare(bytes, ALL).is_ok());
    (ok, peak, memory::reserved())
}

#[test]
fn a_jump_dense_stream_loads_within_its_reservation() {
    // The stream: 120 functions of 5,000 jumps, 6 MB.
    let bytes = testgen::stream_of(&testgen::jump_dense(120, 5000));
    let (ok, peak, reserved) = measured(&bytes);
    assert!(ok);
    eprintln!(
        "{} byte stream: peak {peak} bytes, reserved {reserved} ({:.2} x the stream)",
        bytes.len(),
        reserved as f64 / bytes.len() as f64
    );
    assert!(
        peak <= reserved + budget::SLACK,
        "peak {peak} > reserved {reserved}"
    );
    let loaded = registry::prepare(&bytes, ALL).unwrap();
    assert_eq!(loaded.module.linked_jumps, 120 * 5000);
    // The output is kept exactly: no spare capacity beyond its length.
    assert!(reserved >= loaded.module.wasm.len());
}

#[test]
fn every_test_stream_loads_within_its_reservation() {
    let mut streams = testgen::host_streams();
    streams.extend(
        testgen::bad_streams()
            .into_iter()
            .map(|(n, b, _)| (n.to_string(), b)),
    );
    for (name, bytes) in streams {
        let (_, peak, reserved) = measured(&bytes);
        assert!(
            peak <= reserved + budget::SLACK,
            "{name}: peak {peak} > reserved {reserved}"
        );
    }
}
