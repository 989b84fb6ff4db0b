//! Fuzzes the reading of native-code cache entries: an entry is untrusted
//! input (another process, a damaged disk, a user). Oracles: nothing
//! panics; an entry is accepted only for the key it was written for, and
//! then re-encodes to the same bytes.
#![no_main]

use atomvm_wasm_jit::cache::{self, Key};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The key: the first 24 bytes (module hash and build), else zeros.
    let mut k = [0u8; 24];
    let n = data.len().min(24);
    k[..n].copy_from_slice(&data[..n]);
    let key = Key {
        module: u128::from_le_bytes(k[..16].try_into().unwrap()),
        module_size: 0,
        build: u64::from_le_bytes(k[16..].try_into().unwrap()),
    };
    let bytes = &data[n..];
    if let Ok(entry) = cache::decode(bytes, &key) {
        assert_eq!(cache::encode(&key, &entry).unwrap(), bytes);
    }
    // A well-formed entry for this key, damaged at one place, is refused.
    let stream = bytes.get(..bytes.len().min(256)).unwrap_or_default();
    let entry = cache::Entry {
        version: 1,
        labels: 2,
        stream: stream.to_vec(),
    };
    let mut good = cache::encode(&key, &entry).unwrap();
    assert_eq!(cache::decode(&good, &key).unwrap(), entry);
    if let Some(&b) = data.first() {
        let at = usize::from(b) % good.len();
        good[at] ^= 1 + (data.len() as u8 % 255);
        assert!(cache::decode(&good, &key).is_err(), "flip at {at} accepted");
    }
});
