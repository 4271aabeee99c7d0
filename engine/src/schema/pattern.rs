//! `@check` patterns: compiled with explicit limits, once per pattern per
//! process.
//!
//! A schema comes from whoever may create a graph, so a pattern is hostile
//! input: its length, nesting and compiled size are bounded here (the regex
//! crate's matching time is linear in the input, so a bounded program is a
//! bounded cost per value). Compiled patterns are kept in a process-wide
//! cache, so opening a graph or starting a load does not compile them again.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use regex::{Regex, RegexBuilder};

/// The longest pattern accepted, in bytes.
pub const MAX_PATTERN_BYTES: usize = 4096;
/// The largest compiled program (and lazy DFA cache) of one pattern.
pub const MAX_COMPILED_BYTES: usize = 1 << 20;
/// The deepest nesting of groups and repetitions.
pub const MAX_PATTERN_NESTING: u32 = 32;
/// Compiled patterns kept; the cache starts over past this many.
const CACHE_ENTRIES: usize = 1024;

/// `pattern` compiled within the limits, from the cache when it was
/// compiled before. The error says which limit or syntax rule it broke.
pub fn compile(pattern: &str) -> Result<Regex, String> {
    static CACHE: OnceLock<Mutex<HashMap<String, Regex>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(r) = cache.lock().expect("pattern cache").get(pattern) {
        return Ok(r.clone());
    }
    if pattern.len() > MAX_PATTERN_BYTES {
        return Err(format!("the pattern is {} bytes; the limit is {MAX_PATTERN_BYTES}", pattern.len()));
    }
    let r = RegexBuilder::new(pattern)
        .size_limit(MAX_COMPILED_BYTES)
        .dfa_size_limit(MAX_COMPILED_BYTES)
        .nest_limit(MAX_PATTERN_NESTING)
        .build()
        .map_err(|e| e.to_string())?;
    let mut c = cache.lock().expect("pattern cache");
    if c.len() >= CACHE_ENTRIES {
        c.clear();
    }
    c.insert(pattern.to_string(), r.clone());
    Ok(r)
}
