//! The comparison: a scenario run with its modules as generated (only the
//! imports adapted) and with them rewritten must agree on everything the VM
//! could observe — every primitive call with its arguments and the slice
//! ends in order, how the run ended, and the whole memory afterwards (x
//! registers, `cp`, the `JITState`, data). A disagreement is a bug in a
//! rewrite by definition. A run that ran out of fuel on either side proves
//! nothing and is reported as inconclusive.

use super::model::{self, Outcome, Run, Scenario};
use crate::rewrite::{Options, Rewritten};

/// Why two runs disagree, for the failure message.
#[derive(Debug)]
pub struct Mismatch {
    pub what: String,
    /// Boxed: the options are larger than a result's error should be.
    pub options: Box<Options>,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "rewritten with {:?}: {}", self.options, self.what)
    }
}

/// What an agreeing comparison covered.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Agreement {
    /// Out of fuel on a side: nothing compared.
    pub inconclusive: bool,
    /// Events compared.
    pub events: usize,
    /// What the rewrite did: jumps and returns linked, calls bound directly.
    pub linked_jumps: u32,
    pub linked_exits: u32,
    pub direct_calls: u32,
    pub trampolined_calls: u32,
    pub inlined_bifs: u32,
    pub inlined_atoms: u32,
    pub small_int_calls: u32,
    pub guarded_trims: u32,
    pub compare_calls: u32,
    pub frame_calls: u32,
    pub heap_calls: u32,
    pub map_calls: u32,
    pub map_get_calls: u32,
    pub map_update_calls: u32,
}

/// The options the rewritten side is tried with: each rewrite alone (inline
/// returns with the tail calls they need) and all of them (memory not
/// shared: wasmi has no threads).
pub const OPTIONS: [Options; 13] = [
    Options {
        tail_calls: true,
        ..Options::plain(false)
    },
    Options {
        direct_primitives: true,
        ..Options::plain(false)
    },
    Options {
        tail_calls: true,
        computed_jumps: true,
        ..Options::plain(false)
    },
    Options {
        imported_bifs: Some(crate::rewrite::BifLayout::MODEL),
        ..Options::plain(false)
    },
    Options {
        atom_terms: Some(crate::rewrite::AtomLayout::MODEL),
        ..Options::plain(false)
    },
    Options {
        direct_primitives: true,
        small_int_bifs: Some(crate::rewrite::SmallIntBifs::MODEL),
        ..Options::plain(false)
    },
    Options {
        trim_live_regs: Some(crate::rewrite::TRIM_MODEL_OFFSET),
        ..Options::plain(false)
    },
    Options {
        direct_primitives: true,
        immediate_compares: true,
        ..Options::plain(false)
    },
    Options {
        direct_primitives: true,
        stack_frames: Some(crate::rewrite::HeapLayout::MODEL),
        ..Options::plain(false)
    },
    Options {
        direct_primitives: true,
        heap_allocs: Some(crate::rewrite::HeapBounds::MODEL),
        ..Options::plain(false)
    },
    Options {
        direct_primitives: true,
        map_lookups: true,
        map_get_bif: Some(crate::rewrite::MAP_GET_MODEL),
        ..Options::plain(false)
    },
    Options {
        direct_primitives: true,
        map_updates: Some(crate::rewrite::HeapLayout::MODEL),
        ..Options::plain(false)
    },
    Options::all(false),
];

/// Runs `scenario` as generated, then rewritten with each of `options`, and
/// compares each rewritten run with the original. Empty: the scenario does
/// not load (nothing to compare).
pub fn compare(scenario: &Scenario, options: &[Options]) -> Result<Vec<Agreement>, Mismatch> {
    let Ok(original) = model::prepare(&scenario.streams, None) else {
        return Ok(Vec::new());
    };
    let rewritten = options
        .iter()
        .map(|&options| {
            model::prepare(&scenario.streams, Some(options))
                .map(|p| (options, p))
                .map_err(|e| Mismatch {
                    what: format!("the rewritten modules do not load, the originals do: {e}"),
                    options: Box::new(options),
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    compare_prepared(scenario, &original, &rewritten)
}

/// [`compare`] on modules prepared once for many scenarios of the same
/// streams.
pub fn compare_prepared(
    scenario: &Scenario,
    original: &model::Prepared,
    rewritten: &[(Options, model::Prepared)],
) -> Result<Vec<Agreement>, Mismatch> {
    model::with_stack(|| {
        let Ok(a) = model::run(original, scenario) else {
            return Ok(Vec::new());
        };
        rewritten
            .iter()
            .map(|(options, prepared)| {
                let b = model::run(prepared, scenario).map_err(|e| Mismatch {
                    what: format!("the rewritten modules do not instantiate: {e}"),
                    options: Box::new(*options),
                })?;
                agree(&a, &b, &prepared.stats, *options)
            })
            .collect()
    })
}

fn agree(a: &Run, b: &Run, stats: &[Rewritten], options: Options) -> Result<Agreement, Mismatch> {
    let mut agreement = Agreement::default();
    for s in stats {
        agreement.linked_jumps += s.linked_jumps;
        agreement.linked_exits += s.linked_exits;
        agreement.direct_calls += s.direct_calls;
        agreement.trampolined_calls += s.trampolined_calls;
        agreement.inlined_bifs += s.inlined_bifs;
        agreement.inlined_atoms += s.inlined_atoms;
        agreement.small_int_calls += s.small_int_calls;
        agreement.guarded_trims += s.guarded_trims;
        agreement.compare_calls += s.compare_calls;
        agreement.frame_calls += s.frame_calls;
        agreement.heap_calls += s.heap_calls;
        agreement.map_calls += s.map_calls;
        agreement.map_get_calls += s.map_get_calls;
        agreement.map_update_calls += s.map_update_calls;
    }
    if a.outcome == Outcome::OutOfFuel || b.outcome == Outcome::OutOfFuel {
        agreement.inconclusive = true;
        return Ok(agreement);
    }
    let mismatch = |what: String| Mismatch {
        what,
        options: Box::new(options),
    };
    if let Some(i) =
        (0..a.events.len().max(b.events.len())).find(|i| a.events.get(*i) != b.events.get(*i))
    {
        return Err(mismatch(format!(
            "event {i} differs: original {:?}, rewritten {:?} (events before it agree: {:?})",
            a.events.get(i),
            b.events.get(i),
            &a.events[i.saturating_sub(3)..i]
        )));
    }
    if a.outcome != b.outcome {
        return Err(mismatch(format!(
            "the run ended differently: original {:?}, rewritten {:?}",
            a.outcome, b.outcome
        )));
    }
    if let Some(at) = (0..a.memory.len()).find(|i| a.memory.get(*i) != b.memory.get(*i)) {
        return Err(mismatch(format!(
            "memory differs from byte {at:#x}: original {:02x?}, rewritten {:02x?}",
            &a.memory[at..(at + 8).min(a.memory.len())],
            &b.memory[at..(at + 8).min(b.memory.len())]
        )));
    }
    agreement.events = a.events.len();
    Ok(agreement)
}
