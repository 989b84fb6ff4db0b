//! Errors: one small type with a stable numeric kind and a message that
//! names the problem, plus the calling thread's "last error" that the C ABI
//! exposes after a hook returned NULL.

use std::cell::RefCell;
use std::ffi::CString;
use std::fmt;

/// Stable numbers for the kinds of failure, visible to C through
/// `atomvm_wasm_jit_last_error_code`. Never renumber an existing kind.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The stream's header (sizes, offsets, counts) is not of format version 1.
    BadStream = 1,
    /// The embedded WebAssembly binary is malformed or does not validate.
    BadModule = 2,
    /// The module is valid WebAssembly but not of the shape of spec section 4.
    ModuleShape = 3,
    /// The JavaScript engine refused to compile or instantiate the module.
    Engine = 4,
    /// A resource ran out: memory, table slots or module ids.
    Resource = 5,
    /// The `native_code` handle is not a live module (never loaded or released).
    BadHandle = 6,
    /// The label is not one of the module's labels.
    BadLabel = 7,
    /// A call came in while the runtime was already busy on this thread.
    Reentrant = 8,
    /// A NULL or otherwise unusable argument crossed the C ABI.
    BadArgument = 9,
    /// A native-code cache entry was refused, or the cache directory could
    /// not be used (the module is then compiled as without a cache).
    Cache = 10,
}

/// The runtime's error: a kind and a message meant for a person.
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: Box<str>,
}

impl Error {
    #[cold]
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into().into_boxed_str(),
        }
    }

    #[cold]
    pub fn stream(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::BadStream, message)
    }

    #[cold]
    pub fn shape(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::ModuleShape, message)
    }

    /// A malformed module, as reported by wasmparser. `base` is the offset of
    /// the module inside the stream, so that the message points into the
    /// stream the user has.
    #[cold]
    pub fn module(err: &wasmparser::BinaryReaderError, base: usize) -> Error {
        Error::new(
            ErrorKind::BadModule,
            format!(
                "invalid WebAssembly module: {} (at stream offset {})",
                err.message(),
                base.saturating_add(crate::module::offset(err.offset()))
            ),
        )
    }

    /// A malformed module, in our own words, at stream offset `at`.
    #[cold]
    pub fn module_text(what: impl std::fmt::Display, at: usize) -> Error {
        Error::new(
            ErrorKind::BadModule,
            format!("invalid WebAssembly module: {what} (at stream offset {at})"),
        )
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.kind, self.message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

/// The last failure on this thread, kept as a C string so that the pointer
/// handed to C stays valid until the next failure on the same thread.
struct LastError {
    kind: u32,
    message: Option<CString>,
}

thread_local! {
    static LAST: RefCell<LastError> = const {
        RefCell::new(LastError { kind: 0, message: None })
    };
}

static LOGGING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// Whether failures are also written to standard error (on by default, like
/// the C runtime this crate replaces).
pub fn set_logging(on: bool) {
    LOGGING.store(on, std::sync::atomic::Ordering::Relaxed);
}

/// Prints `err` if logging is on, without recording it: for a failure the
/// runtime works around (the call that met it succeeds).
#[cold]
pub fn log(err: &Error) {
    if LOGGING.load(std::sync::atomic::Ordering::Relaxed) {
        // One write(2) of the whole line, without std's I/O machinery.
        let line = format!("atomvm_wasm_jit: {}\n", err.message);
        // SAFETY: `line` is a live buffer of `line.len()` bytes; fd 2 is
        // standard error, and a failed write is of no consequence.
        let _ = unsafe { libc::write(2, line.as_ptr().cast(), line.len()) };
    }
}

/// Records `err` as this thread's last error and, if logging is on, prints it.
#[cold]
pub fn record(err: &Error) {
    log(err);
    // A message never contains NUL from our own formatting, but user bytes
    // (export names) might end up in it: replace rather than fail.
    let text = err.message.replace('\0', "\\0");
    let message = CString::new(text).ok();
    let _ = LAST.try_with(|last| {
        if let Ok(mut last) = last.try_borrow_mut() {
            last.kind = err.kind as u32;
            last.message = message;
        }
    });
}

/// The calling thread's last error message, or NULL if none was recorded.
/// The pointer stays valid until the next failure on this thread.
pub fn last_message_ptr() -> *const libc::c_char {
    LAST.try_with(|last| match last.try_borrow() {
        Ok(last) => last
            .message
            .as_ref()
            .map_or(std::ptr::null(), |m| m.as_ptr()),
        Err(_) => std::ptr::null(),
    })
    .unwrap_or_default()
}

/// The calling thread's last error kind (`ErrorKind as u32`), 0 if none.
pub fn last_kind() -> u32 {
    LAST.try_with(|last| last.try_borrow().map_or(0, |l| l.kind))
        .unwrap_or(0)
}

/// Forgets the calling thread's last error.
pub fn clear() {
    let _ = LAST.try_with(|last| {
        if let Ok(mut last) = last.try_borrow_mut() {
            last.kind = 0;
            last.message = None;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_keeps_kind_and_message_per_thread() {
        set_logging(false);
        clear();
        assert_eq!(last_kind(), 0);
        assert!(last_message_ptr().is_null());
        record(&Error::stream("stream truncated"));
        assert_eq!(last_kind(), ErrorKind::BadStream as u32);
        // SAFETY: last_message_ptr returned a non-null pointer to a CString
        // owned by this thread's LAST, which nothing changes until we return.
        let text = unsafe { std::ffi::CStr::from_ptr(last_message_ptr()) };
        assert_eq!(text.to_str().unwrap(), "stream truncated");
        std::thread::spawn(|| assert_eq!(last_kind(), 0))
            .join()
            .unwrap();
    }

    #[test]
    fn interior_nul_is_escaped_not_dropped() {
        set_logging(false);
        record(&Error::shape("export \"f\0x\" is unexpected"));
        // SAFETY: as above, the pointer is this thread's live CString.
        let text = unsafe { std::ffi::CStr::from_ptr(last_message_ptr()) };
        assert_eq!(text.to_str().unwrap(), "export \"f\\0x\" is unexpected");
    }
}
