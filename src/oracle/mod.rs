//! The differential oracle: every rewrite must leave exactly what the VM
//! would have seen without it. It runs the same scenario twice under wasmi,
//! once with the modules as generated and once rewritten, in a model of
//! AtomVM ([`model`]: memory laid out as spec section 2, the dispatch loop
//! of spec 6.2, primitives that log their calls), and compares what they
//! did ([`diff`]). Scenarios come from a generator of random programs
//! ([`gen`]) or from the real streams of AtomVM's code generator
//! ([`fixture_scenario`]).
//!
//! Built with the `oracle` feature only (the tests and the fuzz targets
//! turn it on); the library AtomVM links never contains it.

pub mod budget;
pub mod diff;
pub mod gen;
pub mod model;
pub mod reader;

use crate::rewrite::analysis::{self, Site};
use crate::{module, stream};

/// A scenario running one of AtomVM's real streams from `entry_label`,
/// with the model's interface given the types the stream calls each entry
/// with (its first use), so that its calls reach the model primitives.
pub fn fixture_scenario(
    stream_bytes: &[u8],
    entry_label: u32,
    src: &mut gen::Source<'_>,
) -> Option<model::Scenario> {
    let s = stream::parse(stream_bytes).ok()?;
    let shape = module::check(s.wasm, s.num_entries, s.wasm_offset).ok()?;
    let mut types = gen::iface_types();
    let mut seen = [false; 77];
    for payload in module::parser().parse_all(s.wasm) {
        if let Ok(wasmparser::Payload::CodeSectionEntry(body)) = payload {
            let _ = analysis::scan(s.wasm, &body, s.num_entries, 0, |site| {
                if let Site::Primitive { offset, ty, .. } = site {
                    let n = (offset / 4) as usize;
                    let standard = shape
                        .types
                        .get(ty as usize)
                        .and_then(module::standard_index);
                    if let (Some(false), Some(st)) = (seen.get(n).copied(), standard) {
                        seen[n] = true;
                        types[n] = st as u8;
                    }
                }
                Ok(())
            });
        }
    }
    let mut x = [0u32; 16];
    for v in &mut x {
        // small integers and atoms, tagged as AtomVM tags them
        *v = match src.below(3) {
            0 => (src.below(100) << 4) | 0xF,
            1 => (src.below(50) << 6) | 0xB,
            _ => src.below(64),
        };
    }
    Some(model::Scenario {
        streams: vec![stream_bytes.to_vec()],
        iface_types: types,
        entry_module: 0,
        entry_label,
        x,
        extra: [0; model::EXTRA_WORDS],
        reductions: 1 + src.below(20) as i32,
        max_slices: 3,
        fuel: 1_000_000,
    })
}
