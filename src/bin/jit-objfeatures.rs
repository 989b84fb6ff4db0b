//! Rewrites the `target_features` section of every wasm object in a static
//! library, dropping the feature names given after the archive:
//!
//! ```text
//! jit-objfeatures libatomvm_wasm_jit.a bulk-memory-opt
//! emranlib libatomvm_wasm_jit.a
//! ```
//!
//! Why: emcc turns every feature the linked program declares into a
//! `wasm-opt --enable-<feature>` flag, and older binaryen (120, paired with
//! Emscripten 3.1.69 in Debian 13) refuses names it does not know, so the
//! link of AtomVM fails at `-O3`. Rust's LLVM declares `bulk-memory-opt`
//! with `bulk-memory`, which it is a subset of: dropping the name changes
//! nothing a linker or an engine checks, as `bulk-memory` stays declared.
//!
//! The archive's symbol index is dropped too (member sizes change); run
//! `emranlib` (llvm-ranlib) on the result to write a new one.

use std::process::ExitCode;

fn leb(bytes: &[u8], at: &mut usize) -> Option<u32> {
    let mut value = 0u32;
    for shift in (0..35).step_by(7) {
        let b = *bytes.get(*at)?;
        *at += 1;
        value |= u32::from(b & 0x7F).checked_shl(shift)?;
        if b < 0x80 {
            return Some(value);
        }
    }
    None
}

fn put_leb(out: &mut Vec<u8>, mut v: u32) {
    loop {
        let b = (v & 0x7F) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

/// The object with `drop` removed from its `target_features` section, or
/// `None` if it is not a wasm object (left as it is).
fn rewrite_object(obj: &[u8], drop: &[String]) -> Option<(Vec<u8>, usize)> {
    if obj.get(..4)? != b"\0asm" {
        return None;
    }
    let mut out = obj.get(..8)?.to_vec();
    let mut at = 8;
    let mut dropped = 0;
    while at < obj.len() {
        let start = at;
        let id = obj[at];
        at += 1;
        let size = leb(obj, &mut at)? as usize;
        let body = obj.get(at..at.checked_add(size)?)?;
        at += size;
        let mut b = 0;
        let name_len = if id == 0 {
            leb(body, &mut b)? as usize
        } else {
            0
        };
        if id != 0 || body.get(b..b + name_len)? != b"target_features" {
            out.extend_from_slice(&obj[start..at]);
            continue;
        }
        b += name_len;
        let count = leb(body, &mut b)?;
        let mut kept = Vec::new();
        let mut n = 0;
        for _ in 0..count {
            let entry = b;
            b += 1; // prefix: '+' used, '-' disallowed, '=' required
            let len = leb(body, &mut b)? as usize;
            let feature = std::str::from_utf8(body.get(b..b + len)?).ok()?;
            b += len;
            if drop.iter().any(|d| d == feature) {
                dropped += 1;
            } else {
                kept.extend_from_slice(&body[entry..b]);
                n += 1;
            }
        }
        let mut payload = Vec::new();
        put_leb(&mut payload, name_len as u32);
        payload.extend_from_slice(b"target_features");
        put_leb(&mut payload, n);
        payload.extend_from_slice(&kept);
        out.push(0);
        put_leb(&mut out, payload.len() as u32);
        out.extend_from_slice(&payload);
    }
    Some((out, dropped))
}

/// Rewrites a GNU/SysV archive's members; drops its symbol index.
fn rewrite_archive(a: &[u8], drop: &[String]) -> Result<(Vec<u8>, usize, usize), String> {
    const MAGIC: &[u8] = b"!<arch>\n";
    if a.get(..8) != Some(MAGIC) {
        return Err("not an ar archive".into());
    }
    let mut out = MAGIC.to_vec();
    let (mut at, mut objects, mut dropped) = (8, 0, 0);
    while at < a.len() {
        let header = a.get(at..at + 60).ok_or("truncated member header")?;
        let name = String::from_utf8_lossy(&header[..16])
            .trim_end()
            .to_string();
        let size: usize = String::from_utf8_lossy(&header[48..58])
            .trim()
            .parse()
            .map_err(|_| format!("bad size in member {name}"))?;
        let data = a.get(at + 60..at + 60 + size).ok_or("truncated member")?;
        at += 60 + size + (size & 1);
        if name == "/" || name == "/SYM64/" {
            continue; // the symbol index: emranlib writes a new one
        }
        let data = match rewrite_object(data, drop) {
            Some((new, n)) => {
                objects += 1;
                dropped += n;
                new
            }
            None => data.to_vec(),
        };
        let mut h = header.to_vec();
        let size_field = format!("{:<10}", data.len());
        h[48..58].copy_from_slice(size_field.as_bytes());
        out.extend_from_slice(&h);
        out.extend_from_slice(&data);
        if data.len() % 2 == 1 {
            out.push(b'\n');
        }
    }
    Ok((out, objects, dropped))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((path, drop)) = args.split_first() else {
        eprintln!("usage: jit-objfeatures ARCHIVE FEATURE...");
        return ExitCode::from(2);
    };
    let result = std::fs::read(path)
        .map_err(|e| format!("{path}: {e}"))
        .and_then(|a| rewrite_archive(&a, drop))
        .and_then(|(out, objects, dropped)| {
            std::fs::write(path, out).map_err(|e| format!("{path}: {e}"))?;
            Ok((objects, dropped))
        });
    match result {
        Ok((objects, dropped)) => {
            println!("{path}: {objects} objects, {dropped} feature entries dropped");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("jit-objfeatures: {e}");
            ExitCode::FAILURE
        }
    }
}
