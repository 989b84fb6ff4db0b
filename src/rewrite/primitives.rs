//! Direct primitives ([`super::Options::direct_primitives`]). A primitive
//! call `local.get 2; i32.load offset=N*4; call_indirect (type T)` becomes
//! `call $p."N:S"`, a function import that the JS side binds at
//! instantiation to entry N of AtomVM's `module_native_interface` (a
//! `return_call` when it was in tail position; S is T's index among the
//! standard types). Other `call_indirect`s (function pointers computed at
//! run time) become calls of per-thread trampolines `ci.t<S>` that do the
//! `call_indirect` (see `TRAMPOLINES`). The module then imports no table,
//! which keeps `Table.set`/`grow` as fast with 500 modules loaded as with
//! one (V8 slows them down for every instance importing the table).
//!
//! Binding entry N once, at instantiation, is exact because the loop always
//! passes `&module_native_interface` as local 2 (spec 6.2) and that
//! interface is constant. So a call is bound only if:
//!
//! - its function is entered by the loop only (no `call` or `return_call`
//!   targets it: a caller may pass anything as local 2) and never writes
//!   local 2 (else local 2 may hold another interface: the call goes through
//!   a trampoline, reading the pointer when it is made);
//! - N is an entry of the interface (below [`INTERFACE_ENTRIES`], offset a
//!   multiple of 4): past it, memory is not the interface and may change, so
//!   the call goes through a trampoline.
//!
//! A module is detached (drops its table import) only if it uses the table
//! by `call_indirect` alone, every such call has a standard type (there is a
//! trampoline for each), and the added types keep it within the engine's
//! limits; otherwise it keeps its table import and all its calls as they
//! are. If an entry's type differs from the call's (a host whose interface
//! is not AtomVM's), the JS side binds that import through the trampoline of
//! type S instead, which traps only if it is called, as the `call_indirect`
//! would have.

use super::analysis::{BodyFacts, LocalAndConst, Site};
use crate::error::Result;
use crate::limits;
use crate::memory::Sink;
use crate::module::{standard_index, FuncSig, I32, STANDARD_TYPES};
use wasm_encoder::{Encode, EntityType, ImportSection};

/// Entries of AtomVM's `ModuleNativeInterface` (spec section 2).
pub const INTERFACE_ENTRIES: u64 = 77;

const NUM_STANDARD: usize = STANDARD_TYPES.len();

/// Entry N of the interface if `offset` addresses one.
pub(super) fn entry_of(offset: u64) -> Option<usize> {
    (offset.is_multiple_of(4) && offset / 4 < INTERFACE_ENTRIES).then_some((offset / 4) as usize)
}

/// If `site` calls interface entry `entry` as AtomVM's generator writes
/// it, with standard type `ty`, two arguments pushed right before it (a
/// `local.get` and an `i32.const`), in a function whose local 2 is the
/// loop's interface (`p_is_interface`, so the entry is AtomVM's): those
/// arguments and the end of the `call_indirect`. The rewrites that replace
/// one entry's calls (`bifs.rs`, `trim.rs`) start here.
pub(super) fn generated_call(
    facts: &PrimitiveFacts,
    site: &Site,
    p_is_interface: bool,
    entry: usize,
    ty: u8,
) -> Option<(LocalAndConst, usize)> {
    let Site::Primitive {
        offset,
        call_end,
        ty: site_ty,
        args: Some(args),
        ..
    } = *site
    else {
        return None;
    };
    let wanted =
        p_is_interface && entry_of(offset) == Some(entry) && facts.standard(site_ty) == Some(ty);
    wanted.then_some((args, call_end))
}

/// The fallback of a function added to answer some calls itself (`small_ints.rs`,
/// `compare.rs`, `frames.rs`): the same call, with its first `params`
/// locals (its parameters) as arguments, of `func`, as a `return_call` if
/// `tail`.
pub(super) fn forward(
    ins: &mut wasm_encoder::InstructionSink<'_>,
    params: u32,
    func: u32,
    tail: bool,
) {
    for i in 0..params {
        ins.local_get(i);
    }
    if tail {
        ins.return_call(func);
    } else {
        ins.call(func);
    }
}

/// What the pass learns about the module before deciding.
pub struct PrimitiveFacts {
    /// Per interface entry, bit S set: called with standard type S.
    entries: [u16; INTERFACE_ENTRIES as usize],
    /// Bit S set: a computed call of standard type S, or a primitive call
    /// of type S that may have to go through a trampoline (its function
    /// may turn out to be a call target, known only once every body was
    /// scanned; an unused trampoline import costs nothing).
    computed: u16,
    /// A `call_indirect` whose type is not standard (no trampoline for it).
    nonstandard: bool,
    /// The table is used other than by `call_indirect`.
    uses_table: bool,
    /// The current function's bound candidates, merged at its end.
    pending: [u16; INTERFACE_ENTRIES as usize],
    /// Standard index of each of the module's types (`None`: not standard).
    standard_of: Vec<Option<u8>>,
}

impl PrimitiveFacts {
    pub fn new(types: &[FuncSig<'_>]) -> Result<PrimitiveFacts> {
        let mut standard_of = crate::memory::try_vec(types.len(), "the type map")?;
        standard_of.extend(types.iter().map(|t| standard_index(t).map(|s| s as u8)));
        Ok(PrimitiveFacts {
            entries: [0; INTERFACE_ENTRIES as usize],
            computed: 0,
            nonstandard: false,
            uses_table: false,
            pending: [0; INTERFACE_ENTRIES as usize],
            standard_of,
        })
    }

    pub(super) fn standard(&self, ty: u32) -> Option<u8> {
        self.standard_of.get(ty as usize).copied().flatten()
    }

    fn computed_call(&mut self, ty: u32) {
        match self.standard(ty) {
            Some(s) => self.computed |= 1 << s,
            None => self.nonstandard = true,
        }
    }

    /// Records a site of the function being scanned.
    pub fn observe(&mut self, site: &Site) {
        match *site {
            Site::Primitive { offset, ty, .. } => match (entry_of(offset), self.standard(ty)) {
                (Some(n), Some(s)) => self.pending[n] |= 1 << s,
                _ => self.computed_call(ty),
            },
            Site::Computed { ty, .. } => self.computed_call(ty),
            _ => {}
        }
    }

    /// Ends the function scanned: its primitive calls may be bound unless
    /// it writes local 2, and may go through trampolines in any case.
    pub fn end_function(&mut self, facts: &BodyFacts) {
        self.uses_table |= facts.uses_table;
        let pending = std::mem::replace(&mut self.pending, [0; INTERFACE_ENTRIES as usize]);
        for (n, mask) in pending.iter().enumerate() {
            self.computed |= mask;
            if !facts.writes_param(2) {
                self.entries[n] |= mask;
            }
        }
    }

    /// The decision for the module.
    pub fn binding(&self, want: bool, num_types: usize) -> Binding {
        let added = self.computed.count_ones() as usize;
        let detached = want
            && !self.uses_table
            && !self.nonstandard
            && (num_types + added) as u64 <= limits::MAX_TYPES;
        Binding {
            detached,
            entries: if detached {
                self.entries
            } else {
                [0; INTERFACE_ENTRIES as usize]
            },
            trampolines: if detached { self.computed } else { 0 },
            num_types: num_types as u32,
        }
    }

    /// The module type index of standard type `s`, if the module has one.
    pub(super) fn type_of_standard(&self, s: u8) -> Option<u32> {
        self.standard_of
            .iter()
            .position(|t| *t == Some(s))
            .map(|i| i as u32)
    }
}

/// How the module's calls are bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Binding {
    /// The module imports no table: primitives and trampolines are imports.
    pub detached: bool,
    /// Per interface entry, bit S set: imported as `p."N:S"`.
    entries: [u16; INTERFACE_ENTRIES as usize],
    /// Bit S set: trampoline `ci.t<S>` imported.
    trampolines: u16,
    /// Types in the original module (trampoline types follow them).
    num_types: u32,
}

impl Binding {
    /// The binding of a module that keeps its table and its calls.
    pub fn none() -> Binding {
        Binding {
            detached: false,
            entries: [0; INTERFACE_ENTRIES as usize],
            trampolines: 0,
            num_types: 0,
        }
    }

    fn primitive_imports(&self) -> u32 {
        self.entries.iter().map(|m| m.count_ones()).sum()
    }

    /// Imported functions, which come before the label functions.
    pub fn imported_functions(&self) -> u32 {
        self.primitive_imports() + self.trampolines.count_ones()
    }

    /// Types appended to the type section.
    pub fn added_types(&self) -> u32 {
        self.trampolines.count_ones()
    }

    /// Function index of `p."N:S"`, if the module imports it.
    pub(super) fn bound_entry(&self, n: usize, s: u8) -> Option<u32> {
        let imported = self.entries.get(n).is_some_and(|m| m & (1 << s) != 0);
        (self.detached && imported).then(|| self.primitive_func(n, s))
    }

    /// Function index of `p."N:S"`.
    fn primitive_func(&self, n: usize, s: u8) -> u32 {
        let before: u32 = self.entries[..n].iter().map(|m| m.count_ones()).sum();
        before + (self.entries[n] & ((1u16 << s) - 1)).count_ones()
    }

    /// Function index of `ci.t<S>`.
    pub(super) fn trampoline_func(&self, s: u8) -> u32 {
        self.primitive_imports() + (self.trampolines & ((1u16 << s) - 1)).count_ones()
    }

    /// Whether `ci.t<S>` is imported.
    pub(super) fn has_trampoline(&self, s: u8) -> bool {
        self.trampolines & (1 << s) != 0
    }

    /// The type index of `ci.t<S>` (appended after the module's types).
    pub(super) fn trampoline_type(&self, s: u8) -> u32 {
        self.num_types + (self.trampolines & ((1u16 << s) - 1)).count_ones()
    }

    /// Appends the imports: `p."N:S"` in (N, S) order, then `ci.t<S>`.
    pub fn imports(&self, facts: &PrimitiveFacts, imports: &mut ImportSection) {
        for (n, mask) in self.entries.iter().enumerate() {
            for s in 0..NUM_STANDARD as u8 {
                if mask & (1 << s) != 0 {
                    let ty = facts.type_of_standard(s).unwrap_or(0);
                    imports.import("p", &format!("{n}:{s}"), EntityType::Function(ty));
                }
            }
        }
        let mut rank = 0;
        for s in 0..NUM_STANDARD as u8 {
            if self.trampolines & (1 << s) != 0 {
                let ty = self.num_types + rank;
                imports.import("ci", &format!("t{s}"), EntityType::Function(ty));
                rank += 1;
            }
        }
    }

    /// The type section's entries after the original ones: for each
    /// trampoline S, `(params of S, i32 index) -> results of S`.
    pub fn write_added_types(&self, sink: &mut impl Sink) -> Result<()> {
        for (s, sig) in STANDARD_TYPES.iter().enumerate() {
            if self.trampolines & (1 << s) != 0 {
                let mut out = Vec::with_capacity(16);
                out.push(0x60);
                (sig.params.len() as u32 + 1).encode(&mut out);
                out.extend_from_slice(sig.params);
                out.push(I32);
                (sig.results.len() as u32).encode(&mut out);
                out.extend_from_slice(sig.results);
                sink.put(&out)?;
            }
        }
        Ok(())
    }

    /// What `site` becomes in a function whose local 2 is (`p_is_interface`)
    /// or may not be the loop's interface. `None`: unchanged.
    pub fn replacement(
        &self,
        facts: &PrimitiveFacts,
        site: &Site,
        p_is_interface: bool,
        tail_calls: bool,
    ) -> Option<Replacement> {
        if !self.detached {
            return None;
        }
        match *site {
            Site::Primitive {
                start,
                offset,
                call,
                call_end,
                ty,
                ret_end,
                ..
            } => {
                let s = facts.standard(ty)?;
                match entry_of(offset) {
                    Some(n) if p_is_interface => {
                        let func = self.primitive_func(n, s);
                        let returns_i32 = STANDARD_TYPES[s as usize].results == [I32];
                        let (to, tail) = match ret_end {
                            Some(end) if tail_calls && returns_i32 => (end, true),
                            _ => (call_end, false),
                        };
                        Some(Replacement {
                            from: start,
                            to,
                            func,
                            tail,
                            direct: true,
                            entry: Some((n, s)),
                        })
                    }
                    _ => Some(self.trampolined(call, call_end, s)),
                }
            }
            Site::Computed { start, end, ty } => {
                let s = facts.standard(ty)?;
                Some(self.trampolined(start, end, s))
            }
            _ => None,
        }
    }

    fn trampolined(&self, from: usize, to: usize, s: u8) -> Replacement {
        debug_assert!(self.trampolines & (1 << s) != 0, "trampoline {s} planned");
        Replacement {
            from,
            to,
            func: self.trampoline_func(s),
            tail: false,
            direct: false,
            entry: None,
        }
    }
}

/// A call that replaces the original bytes `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Replacement {
    pub from: usize,
    pub to: usize,
    /// The imported function to call (`return_call` if `tail`).
    pub func: u32,
    pub tail: bool,
    /// Bound to an interface entry (else a trampoline).
    pub direct: bool,
    /// The entry and standard type bound, if `direct`.
    pub entry: Option<(usize, u8)>,
}
