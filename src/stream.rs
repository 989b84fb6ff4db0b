//! The JIT stream, format version 1 (spec section 3).
//!
//! ```text
//! 0            num_entries   u32 LE, < 2^24
//! 4            wasm_offset   u32 LE
//! 8            lines_offset  u32 LE, > wasm_offset, <= stream size
//! 12           reserved zero bytes up to wasm_offset (unused on wasm)
//! wasm_offset  a WebAssembly binary up to lines_offset
//! lines_offset line metadata up to the end (may be empty)
//! ```
//!
//! Parsing borrows from the caller's bytes and checks every offset; nothing
//! here panics on any input.

use crate::error::{Error, Result};

/// Size of the fixed header (three u32).
pub const HEADER_SIZE: usize = 12;
/// The stream format this parser reads (spec section 3).
pub const FORMAT_VERSION: u8 = 1;

/// `num_entries` must be below this (labels are 24-bit in a `cp`).
pub const MAX_ENTRIES: u32 = 1 << 24;

/// WebAssembly magic and version 1, the first 8 bytes of the module.
const WASM_PREAMBLE: [u8; 8] = *b"\0asm\x01\0\0\0";

/// A parsed stream, borrowing from the bytes it was parsed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stream<'a> {
    /// Number of label functions.
    pub num_entries: u32,
    /// Offset of the module inside the stream, for messages.
    pub wasm_offset: usize,
    /// The WebAssembly binary.
    pub wasm: &'a [u8],
    /// The line metadata, validated; empty when the stream has none.
    pub lines: &'a [u8],
}

fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let raw = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes(raw.try_into().ok()?))
}

fn read_u16(bytes: &[u8], at: usize) -> Option<u16> {
    let raw = bytes.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes(raw.try_into().ok()?))
}

/// Parses and checks a stream.
pub fn parse(bytes: &[u8]) -> Result<Stream<'_>> {
    let size = bytes.len();
    if size < HEADER_SIZE {
        return Err(Error::stream(format!(
            "stream truncated: {size} bytes, the header alone needs {HEADER_SIZE}"
        )));
    }
    let field = |at| read_u32(bytes, at).map(|v| v as usize);
    let (Some(num_entries), Some(wasm_offset), Some(lines_offset)) =
        (read_u32(bytes, 0), field(4), field(8))
    else {
        return Err(Error::stream("stream header unreadable"));
    };
    if num_entries >= MAX_ENTRIES {
        return Err(Error::stream(format!(
            "num_entries is {num_entries}, it must be below 2^24 ({MAX_ENTRIES})"
        )));
    }
    if num_entries == 0 {
        return Err(Error::stream(
            "num_entries is 0: a module has at least label 0",
        ));
    }
    if wasm_offset < HEADER_SIZE {
        return Err(Error::stream(format!(
            "wasm_offset {wasm_offset} points into the {HEADER_SIZE}-byte header"
        )));
    }
    if wasm_offset > size {
        return Err(Error::stream(format!(
            "wasm_offset {wasm_offset} is past the end of the {size}-byte stream"
        )));
    }
    if lines_offset <= wasm_offset {
        return Err(Error::stream(format!(
            "offsets out of order: lines_offset {lines_offset} must be greater than wasm_offset {wasm_offset}"
        )));
    }
    if lines_offset > size {
        return Err(Error::stream(format!(
            "stream truncated: lines_offset {lines_offset} is past the end of the {size}-byte stream"
        )));
    }
    let wasm = &bytes[wasm_offset..lines_offset];
    if wasm.len() < WASM_PREAMBLE.len() || wasm[..4] != WASM_PREAMBLE[..4] {
        return Err(Error::stream(format!(
            "bad magic: no WebAssembly module (\\0asm) at wasm_offset {wasm_offset}"
        )));
    }
    if wasm[4..8] != WASM_PREAMBLE[4..8] {
        let version = read_u32(wasm, 4).unwrap_or(0);
        return Err(Error::stream(format!(
            "bad version: WebAssembly binary version {version:#x} at wasm_offset {wasm_offset}, expected 1"
        )));
    }
    let lines = &bytes[lines_offset..];
    check_lines(lines, lines_offset)?;
    Ok(Stream {
        num_entries,
        wasm_offset,
        wasm,
        lines,
    })
}

/// Checks that the line metadata's two counted tables fit in `lines`, so
/// that AtomVM, which reads them by count from the pointer we hand out,
/// never reads past our copy. Trailing bytes are allowed; empty means none.
fn check_lines(lines: &[u8], base: usize) -> Result<()> {
    if lines.is_empty() {
        return Ok(());
    }
    let mut at = 0usize;
    for (what, entry_size) in [("line references", 6usize), ("continuation labels", 4)] {
        let count = read_u16(lines, at).ok_or_else(|| {
            Error::stream(format!(
                "line metadata truncated: no count of {what} at stream offset {}",
                base + at
            ))
        })?;
        let table = usize::from(count) * entry_size;
        at = at
            .checked_add(2 + table)
            .filter(|end| *end <= lines.len())
            .ok_or_else(|| {
                Error::stream(format!(
                    "line metadata truncated: {count} {what} need {table} bytes after stream offset {}, {} remain",
                    base + at + 2,
                    lines.len().saturating_sub(at + 2)
                ))
            })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stream with `reserved` zero bytes (a multiple of 4) after the header.
    fn stream(num_entries: u32, reserved: usize, wasm: &[u8], lines: &[u8]) -> Vec<u8> {
        crate::testgen::stream(num_entries, (reserved / 4) as u32, wasm, lines)
    }

    const EMPTY_MODULE: &[u8] = b"\0asm\x01\0\0\0";
    // one line ref (6 bytes) and one continuation label (4 bytes)
    const LINES: &[u8] = &[1, 0, 7, 0, 1, 0, 0, 0, 1, 0, 3, 0, 2, 0];

    #[test]
    fn parses_a_well_formed_stream() {
        let bytes = stream(3, 8, EMPTY_MODULE, LINES);
        let s = parse(&bytes).unwrap();
        assert_eq!(s.num_entries, 3);
        assert_eq!(s.wasm_offset, 20);
        assert_eq!(s.wasm, EMPTY_MODULE);
        assert_eq!(s.lines, LINES);
    }

    #[test]
    fn no_metadata_is_allowed() {
        let bytes = stream(1, 0, EMPTY_MODULE, &[]);
        assert!(parse(&bytes).unwrap().lines.is_empty());
    }

    fn err(bytes: &[u8]) -> String {
        parse(bytes).unwrap_err().message().to_string()
    }

    #[test]
    fn rejects_truncated_header() {
        assert!(err(&[0; 11]).contains("header alone needs 12"));
    }

    #[test]
    fn rejects_too_many_entries() {
        let bytes = stream(1 << 24, 0, EMPTY_MODULE, &[]);
        assert!(err(&bytes).contains("below 2^24"));
        let bytes = stream((1 << 24) - 1, 0, EMPTY_MODULE, &[]);
        assert!(parse(&bytes).is_ok());
    }

    #[test]
    fn rejects_offsets_out_of_order_or_range() {
        let mut bytes = stream(1, 0, EMPTY_MODULE, &[]);
        bytes[8..12].copy_from_slice(&12u32.to_le_bytes());
        assert!(err(&bytes).contains("out of order"));
        bytes[8..12].copy_from_slice(&1000u32.to_le_bytes());
        assert!(err(&bytes).contains("past the end"));
        bytes[4..8].copy_from_slice(&4u32.to_le_bytes());
        assert!(err(&bytes).contains("into the 12-byte header"));
        bytes[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(err(&bytes).contains("wasm_offset 4294967295 is past the end"));
    }

    #[test]
    fn rejects_bad_magic_and_version() {
        let bytes = stream(1, 0, b"\0asn\x01\0\0\0", &[]);
        assert!(err(&bytes).contains("bad magic"));
        let bytes = stream(1, 0, b"\0asm\x02\0\0\0", &[]);
        assert!(err(&bytes).contains("bad version"));
        let bytes = stream(1, 0, b"\0as", &[]);
        assert!(err(&bytes).contains("bad magic"));
    }

    #[test]
    fn rejects_truncated_line_metadata() {
        let bytes = stream(1, 0, EMPTY_MODULE, &LINES[..LINES.len() - 1]);
        assert!(err(&bytes).contains("line metadata truncated"));
        let bytes = stream(1, 0, EMPTY_MODULE, &[9]);
        assert!(err(&bytes).contains("no count of line references"));
    }

    #[test]
    fn every_prefix_of_a_stream_is_handled() {
        let bytes = stream(3, 8, EMPTY_MODULE, LINES);
        for cut in 0..bytes.len() {
            let _ = parse(&bytes[..cut]);
        }
    }
}
