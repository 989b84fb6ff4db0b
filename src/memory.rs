//! Memory on the load path. Rust aborts the VM when an allocation fails, so
//! every allocation whose size depends on the input is made here, fallibly,
//! and, but for the buffers that grow (the rewriter's sites and code), with
//! its exact size known before any work that fills it:
//!
//! - [`try_vec`] reserves a vector's whole capacity up front (a failure is a
//!   clean "out of memory" error) and adds it to this thread's count of
//!   reserved bytes;
//! - [`try_push`] appends to a vector whose length is only known once it is
//!   filled (the rewriter's list of sites), growing it fallibly and
//!   counting each capacity it grows to;
//! - [`Grown`] is an output buffer that grows fallibly, as `try_push`
//!   does, for the rewritten code, whose size is only known once it is
//!   written;
//! - [`Fixed`] is an output buffer of an exact size that never grows: the
//!   rewriter sizes the module around its code first ([`Counter`]) and
//!   then writes it;
//! - [`headroom`] checks, before a load starts, that the small fixed-size
//!   allocations a load also makes (messages, bookkeeping) will succeed.
//!
//! The fuzz target's counting allocator checks the promise this makes: the
//! peak of what a load allocates stays within what it reserved plus a few
//! KiB ([`reserved`]).

use crate::error::{Error, ErrorKind, Result};
use std::cell::Cell;

thread_local! {
    static RESERVED: Cell<usize> = const { Cell::new(0) };
}

/// What a load may allocate besides its reservations, checked free before
/// it starts.
pub const HEADROOM: usize = 64 * 1024;

#[cold]
fn out_of_memory(bytes: usize, what: &str) -> Error {
    Error::new(
        ErrorKind::Resource,
        format!("out of memory: {what} needs {bytes} bytes"),
    )
}

/// Starts counting this thread's reservations from 0.
pub fn reset() {
    RESERVED.with(|r| r.set(0));
}

/// Bytes reserved through [`try_vec`] on this thread since [`reset`].
pub fn reserved() -> usize {
    RESERVED.with(Cell::get)
}

/// Fails cleanly unless `HEADROOM` bytes can be allocated now (a probe,
/// given back at once: outside the budget a load is measured against).
pub fn headroom() -> Result<()> {
    outside_budget::run(|| {
        let mut probe: Vec<u8> = Vec::new();
        probe
            .try_reserve_exact(HEADROOM)
            .map_err(|_| out_of_memory(HEADROOM, "starting a load"))
    })
}

/// An empty vector with room for exactly `capacity` elements, or an error
/// naming `what` if memory is short. The bytes count as reserved.
pub fn try_vec<T>(capacity: usize, what: &str) -> Result<Vec<T>> {
    let bytes = capacity.saturating_mul(std::mem::size_of::<T>());
    let mut v = Vec::new();
    v.try_reserve_exact(capacity)
        .map_err(|_| out_of_memory(bytes, what))?;
    RESERVED.with(|r| r.set(r.get().saturating_add(bytes)));
    Ok(v)
}

/// Appends `item` to `v`, growing it fallibly (by doubling, so that
/// appending n items costs O(n)) when it is full; each new capacity counts
/// as reserved in full, the old buffer's while it is copied included. For
/// vectors whose length is only known once they are filled.
pub fn try_push<T>(v: &mut Vec<T>, item: T, what: &str) -> Result<()> {
    if v.len() == v.capacity() {
        let old = v.capacity();
        let new = old.max(16).saturating_mul(2);
        let bytes = new.saturating_mul(std::mem::size_of::<T>());
        v.try_reserve_exact(new - v.len())
            .map_err(|_| out_of_memory(bytes, what))?;
        RESERVED.with(|r| r.set(r.get().saturating_add(bytes)));
    }
    v.push(item);
    Ok(())
}

/// A copy of `bytes`, reserved with [`try_vec`].
pub fn copy(bytes: &[u8], what: &str) -> Result<Box<[u8]>> {
    let mut v = try_vec(bytes.len(), what)?;
    v.extend_from_slice(bytes);
    Ok(v.into_boxed_slice())
}

/// Where the rewriter writes bytes: a [`Counter`] when sizing, a [`Fixed`]
/// or [`Grown`] buffer when writing. The same code runs for all, so the
/// size is exact.
pub trait Sink {
    fn put(&mut self, bytes: &[u8]) -> Result<()>;

    /// Accounts for `n` bytes whose size is known without writing them
    /// (the planned bodies, when sizing). Only a [`Counter`] can.
    fn put_len(&mut self, n: usize) -> Result<()>;
}

/// Counts bytes.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counter(pub usize);

impl Sink for Counter {
    fn put(&mut self, bytes: &[u8]) -> Result<()> {
        self.put_len(bytes.len())
    }

    fn put_len(&mut self, n: usize) -> Result<()> {
        self.0 = self
            .0
            .checked_add(n)
            .ok_or_else(|| Error::new(ErrorKind::Resource, "rewritten module size overflows"))?;
        Ok(())
    }
}

/// A buffer of a capacity fixed at creation; writing past it is an error,
/// never a reallocation.
pub struct Fixed {
    buf: Vec<u8>,
}

impl Fixed {
    pub fn new(capacity: usize, what: &str) -> Result<Fixed> {
        Ok(Fixed {
            buf: try_vec(capacity, what)?,
        })
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The bytes, once full. An unfilled buffer means the sizing and the
    /// writing disagreed: an internal error rather than a wrong module.
    pub fn finish(self) -> Result<Box<[u8]>> {
        if self.buf.len() != self.buf.capacity() {
            return Err(Error::new(
                ErrorKind::BadModule,
                format!(
                    "internal error: rewritten module is {} bytes, {} were planned",
                    self.buf.len(),
                    self.buf.capacity()
                ),
            ));
        }
        Ok(self.buf.into_boxed_slice())
    }
}

impl Sink for Fixed {
    fn put(&mut self, bytes: &[u8]) -> Result<()> {
        if bytes.len() > self.buf.capacity() - self.buf.len() {
            return Err(Error::new(
                ErrorKind::BadModule,
                format!(
                    "internal error: rewritten module exceeds the {} bytes planned",
                    self.buf.capacity()
                ),
            ));
        }
        self.buf.extend_from_slice(bytes);
        Ok(())
    }

    fn put_len(&mut self, n: usize) -> Result<()> {
        Err(not_written(n))
    }
}

/// Only a [`Counter`] can account for bytes without writing them.
#[cold]
fn not_written(n: usize) -> Error {
    Error::new(
        ErrorKind::BadModule,
        format!("internal error: {n} bytes accounted for but not written"),
    )
}

/// A buffer that grows fallibly: by doubling (so that writing n bytes costs
/// O(n)), each new capacity counted as reserved in full, the old buffer's
/// while it is copied included, as [`try_push`].
pub struct Grown {
    buf: Vec<u8>,
    what: &'static str,
}

impl Grown {
    /// An empty buffer with room for `capacity` bytes to start with.
    pub fn new(capacity: usize, what: &'static str) -> Result<Grown> {
        Ok(Grown {
            buf: try_vec(capacity, what)?,
            what,
        })
    }

    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Forgets the bytes from `len` on.
    pub fn truncate(&mut self, len: usize) {
        self.buf.truncate(len);
    }
}

impl Sink for Grown {
    fn put(&mut self, bytes: &[u8]) -> Result<()> {
        let need = self.buf.len().saturating_add(bytes.len());
        if need > self.buf.capacity() {
            let new = need.max(self.buf.capacity().saturating_mul(2)).max(64);
            self.buf
                .try_reserve_exact(new - self.buf.len())
                .map_err(|_| out_of_memory(new, self.what))?;
            RESERVED.with(|r| r.set(r.get().saturating_add(new)));
        }
        self.buf.extend_from_slice(bytes);
        Ok(())
    }

    fn put_len(&mut self, n: usize) -> Result<()> {
        Err(not_written(n))
    }
}

/// A set of small integers below a bound fixed at creation, reserved with
/// [`try_vec`].
pub struct BitSet {
    words: Vec<u64>,
}

impl BitSet {
    pub fn new(len: u32, what: &str) -> Result<BitSet> {
        let n = (len as usize).div_ceil(64);
        let mut words = try_vec(n, what)?;
        words.resize(n, 0);
        Ok(BitSet { words })
    }

    /// Adds `i`; returns whether it was already there. Out of range: no-op.
    pub fn insert(&mut self, i: u32) -> bool {
        match self.words.get_mut(i as usize / 64) {
            Some(w) => {
                let bit = 1u64 << (i % 64);
                let had = *w & bit != 0;
                *w |= bit;
                had
            }
            None => false,
        }
    }

    pub fn contains(&self, i: u32) -> bool {
        self.words
            .get(i as usize / 64)
            .is_some_and(|w| w & (1u64 << (i % 64)) != 0)
    }
}

/// Marks allocations that are not the load's use of the VM's memory: the
/// native fake engine's (they stand for the JavaScript engine's, outside
/// it) and the headroom probe. The budget oracle leaves them out.
pub mod outside_budget {
    use std::cell::Cell;

    thread_local! {
        static DEPTH: Cell<u32> = const { Cell::new(0) };
    }

    /// Whether the calling thread is inside such a scope.
    pub fn active() -> bool {
        DEPTH.try_with(Cell::get).unwrap_or(0) > 0
    }

    /// Runs `f` inside the scope.
    pub fn run<T>(f: impl FnOnce() -> T) -> T {
        DEPTH.with(|d| d.set(d.get() + 1));
        let out = f();
        DEPTH.with(|d| d.set(d.get() - 1));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_buffers_refuse_to_grow_and_to_end_short() {
        let mut f = Fixed::new(4, "test").unwrap();
        f.put(&[1, 2, 3]).unwrap();
        assert!(f.put(&[4, 5]).is_err());
        f.put(&[4]).unwrap();
        assert_eq!(&*f.finish().unwrap(), &[1, 2, 3, 4]);
        let short = Fixed::new(4, "test").unwrap();
        assert!(short.finish().unwrap_err().message().contains("planned"));
    }

    #[test]
    fn reservations_are_counted_and_huge_ones_fail_cleanly() {
        reset();
        let _v: Vec<u32> = try_vec(10, "test").unwrap();
        assert_eq!(reserved(), 40);
        let err = try_vec::<u64>(usize::MAX / 4, "a huge table").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Resource);
        assert!(err.message().contains("a huge table"), "{err}");
    }

    #[test]
    fn pushed_vectors_count_every_capacity_they_grow_to() {
        reset();
        let mut v: Vec<u32> = Vec::new();
        for i in 0..33 {
            try_push(&mut v, i, "test").unwrap();
        }
        assert_eq!(v, (0..33).collect::<Vec<_>>());
        // Capacities 32 (0 doubled from at least 16), then 64.
        assert_eq!(v.capacity(), 64);
        assert_eq!(reserved(), (32 + 64) * 4);
    }

    #[test]
    fn bitsets_hold_what_is_inserted() {
        let mut s = BitSet::new(130, "test").unwrap();
        assert!(!s.insert(129));
        assert!(s.insert(129));
        assert!(s.contains(129) && !s.contains(128) && !s.contains(1000));
        assert!(!s.insert(1000)); // out of range: ignored
    }
}
