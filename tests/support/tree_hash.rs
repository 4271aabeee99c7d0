//! Every file under a directory with a hash of its bytes, keyed by its path
//! relative to that directory. Tests take one before and one after an
//! operation to show it left a graph's (or a bystander's) files untouched.
//! Shared by the engine, CLI and server test binaries (`#[path]` modules).

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::path::Path;

pub fn tree_hash(dir: impl AsRef<Path>) -> BTreeMap<String, u64> {
    let base = dir.as_ref();
    let mut out = BTreeMap::new();
    let mut stack = vec![base.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let path = e.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let mut h = std::collections::hash_map::DefaultHasher::new();
                std::fs::read(&path).unwrap_or_default().hash(&mut h);
                out.insert(path.strip_prefix(base).unwrap_or(&path).display().to_string(), h.finish());
            }
        }
    }
    out
}
