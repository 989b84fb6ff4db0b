//! The memory-budget oracle: a counting global allocator that measures the
//! peak of what a load allocates, so that a test or a fuzz target can check
//! it against what the load reserved ([`crate::memory::reserved`]). Only
//! the measuring thread counts, and allocations the fake engine makes (they
//! stand for the JavaScript engine's, outside the VM's memory) do not.
//!
//! Install it in a test binary or fuzz target:
//! `#[global_allocator] static A: Counting = Counting;`

use crate::memory::outside_budget;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// What a load may allocate besides its reservations: messages and the
/// registry's bookkeeping, independent of the input's size.
pub const SLACK: usize = 4096;

thread_local! {
    static MEASURING: Cell<bool> = const { Cell::new(false) };
    static CURRENT: Cell<usize> = const { Cell::new(0) };
    static PEAK: Cell<usize> = const { Cell::new(0) };
}

fn counted() -> bool {
    MEASURING.try_with(Cell::get).unwrap_or(false) && !outside_budget::active()
}

/// The system allocator, counting the measuring thread's live bytes.
pub struct Counting;

// SAFETY: every call is forwarded to `System` unchanged; the counting only
// touches const-initialised thread-locals, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's layout (GlobalAlloc contract).
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() && counted() {
            grow(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if counted() {
            shrink(layout.size());
        }
        // SAFETY: forwarded with the caller's pointer and layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded with the caller's arguments.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() && counted() {
            // Counted as the old block and the new one both live: what a
            // moving reallocation needs at its peak.
            grow(new_size);
            shrink(layout.size());
        }
        p
    }
}

fn grow(n: usize) {
    let _ = CURRENT.try_with(|c| {
        let now = c.get().saturating_add(n);
        c.set(now);
        let _ = PEAK.try_with(|p| p.set(p.get().max(now)));
    });
}

fn shrink(n: usize) {
    let _ = CURRENT.try_with(|c| c.set(c.get().saturating_sub(n)));
}

/// Runs `f` on this thread, returning its result and the peak of the bytes
/// it had allocated and not freed at any moment.
pub fn peak_of<T>(f: impl FnOnce() -> T) -> (T, usize) {
    CURRENT.with(|c| c.set(0));
    PEAK.with(|p| p.set(0));
    MEASURING.with(|m| m.set(true));
    let out = f();
    MEASURING.with(|m| m.set(false));
    (out, PEAK.with(Cell::get))
}
