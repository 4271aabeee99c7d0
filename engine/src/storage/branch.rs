//! Where a graph branch lives in storage.
//!
//! A branch is a Lance branch of `__manifest` (`__manifest/tree/<name>`)
//! and of every table (`<table>/tree/<name>`), made by a shallow clone at
//! the versions the branch was created from: nothing is copied, and its
//! version numbers go on from there. `main` is the datasets themselves.
//! A branch's manifest versions up to the one it was created at (its
//! *fork*) are its parent's commits: the history of a branch reads them
//! from the parent. See docs/dev/branches.md.

use std::sync::Arc;

use lance::dataset::refs::BranchContents;

use super::Root;
pub use super::manifest::MAIN_BRANCH;
use super::manifest::MANIFEST_TABLE;
use crate::error::{Error, Result};

/// The kind of the first commit of a branch.
pub const BRANCH_KIND: &str = "branch";

/// The longest branch name, in bytes.
pub const MAX_NAME_BYTES: usize = 64;

/// One branch: its name, and the branch and manifest version it was
/// created from (`None` for `main`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BranchPath {
    pub name: String,
    pub parent: Option<(Arc<BranchPath>, u64)>,
}

impl BranchPath {
    pub fn main() -> Arc<BranchPath> {
        Arc::new(BranchPath { name: MAIN_BRANCH.to_string(), parent: None })
    }

    pub fn is_main(&self) -> bool {
        self.parent.is_none()
    }

    /// The manifest version this branch was created at.
    pub fn fork(&self) -> Option<u64> {
        self.parent.as_ref().map(|(_, v)| *v)
    }

    /// `base` (a table's or `__manifest`'s directory) on this branch.
    pub fn location(&self, base: &str) -> String {
        if self.is_main() { base.to_string() } else { format!("{base}/tree/{}", self.name) }
    }

    /// This branch's `__manifest` directory.
    pub fn manifest(&self) -> String {
        self.location(MANIFEST_TABLE)
    }

    /// The branch whose own `__manifest` records the commit at `version`:
    /// a parent's for versions up to the fork.
    pub fn owner_of(&self, version: u64) -> &BranchPath {
        match &self.parent {
            Some((p, fork)) if version <= *fork => p.owner_of(version),
            _ => self,
        }
    }

    /// The `__manifest` directory that holds the state at `version`: the
    /// branch's own from its fork on (the fork version is its clone), a
    /// parent's below.
    pub fn manifest_at(&self, version: Option<u64>) -> String {
        match (&self.parent, version) {
            (Some((p, fork)), Some(v)) if v < *fork => p.manifest_at(Some(v)),
            _ => self.manifest(),
        }
    }

    /// The 16 bits a commit id of this branch carries (0 on `main`).
    pub fn code(&self) -> u16 {
        code_of(&self.name)
    }

    /// Every branch from this one up to `main`, this one first.
    pub fn lineage(&self) -> Vec<&BranchPath> {
        let mut out = vec![self];
        let mut cur = self;
        while let Some((p, _)) = &cur.parent {
            out.push(p);
            cur = p;
        }
        out
    }
}

/// The branch code commit ids carry: 0 for `main`, else a hash of the name
/// in `1..=65535` (two branches may share one: a lookup checks the commit
/// it finds).
pub fn code_of(name: &str) -> u16 {
    if name == MAIN_BRANCH {
        return 0;
    }
    // FNV-1a: stable across builds and platforms.
    let mut h: u32 = 0x811c_9dc5;
    for b in name.bytes() {
        h ^= b as u32;
        h = h.wrapping_mul(0x0100_0193);
    }
    let c = ((h >> 16) ^ (h & 0xffff)) as u16;
    if c == 0 { 1 } else { c }
}

/// Checks a branch name: 1 to 64 bytes of ASCII letters, digits, `-`, `_`
/// and `.`, starting with a letter or digit, no `..`. (It becomes a path
/// segment of every table and a URL segment of the HTTP routes.)
pub fn validate_name(name: &str) -> Result<()> {
    let bad = |reason: &str| Err(Error::BranchInvalid { name: name.chars().take(80).collect(), reason: reason.to_string() });
    if name.is_empty() {
        return bad("a branch name cannot be empty");
    }
    if name.len() > MAX_NAME_BYTES {
        return bad(&format!("{} bytes, at most {MAX_NAME_BYTES}", name.len()));
    }
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')) {
        return bad("only ASCII letters, digits, `-`, `_` and `.` are allowed");
    }
    if !name.as_bytes()[0].is_ascii_alphanumeric() {
        return bad("it must start with a letter or digit");
    }
    if name.contains("..") || name.ends_with(".lock") {
        return bad("`..` and a `.lock` ending are not allowed");
    }
    if name == "tree" || name.starts_with('_') {
        return bad("`tree` is reserved");
    }
    Ok(())
}

/// What Lance records about a branch of `__manifest`: the branch it was
/// created from (`None`: main), at which version, and when (seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BranchRecord {
    pub name: String,
    pub parent: String,
    pub fork: u64,
    pub created_s: u64,
}

fn refs_dir() -> String {
    format!("{MANIFEST_TABLE}/_refs/branches")
}

async fn record(root: &Root, name: &str) -> Result<Option<BranchRecord>> {
    let Some(bytes) = root.get(&format!("{}/{name}.json", refs_dir())).await? else { return Ok(None) };
    let c: BranchContents = serde_json::from_slice(&bytes)
        .map_err(|e| Error::storage(root.child_uri(&format!("{}/{name}.json", refs_dir())), format!("unreadable branch record: {e}")))?;
    Ok(Some(BranchRecord {
        name: name.to_string(),
        parent: c.parent_branch.unwrap_or_else(|| MAIN_BRANCH.to_string()),
        fork: c.parent_version,
        created_s: c.create_at,
    }))
}

/// The branch `name` of the graph at `root`, with its parents; `None` if
/// there is no such branch. One small read per branch up to `main`.
pub async fn resolve(root: &Root, name: &str) -> Result<Option<Arc<BranchPath>>> {
    if name == MAIN_BRANCH {
        return Ok(Some(BranchPath::main()));
    }
    let mut chain = Vec::new();
    let mut cur = name.to_string();
    while cur != MAIN_BRANCH {
        // Branches are created from existing ones, so the chain ends at
        // main; the bound only guards against a damaged record.
        if chain.len() > 1024 {
            return Err(Error::storage(root.child_uri(&refs_dir()), format!("branch `{name}`: its chain of parents does not end at main")));
        }
        let Some(r) = record(root, &cur).await? else {
            return if chain.is_empty() {
                Ok(None)
            } else {
                Err(Error::storage(root.child_uri(&refs_dir()), format!("branch `{cur}`, a parent of `{name}`, has no record")))
            };
        };
        cur = r.parent.clone();
        chain.push(r);
    }
    let mut path = BranchPath::main();
    for r in chain.into_iter().rev() {
        path = Arc::new(BranchPath { name: r.name, parent: Some((path, r.fork)) });
    }
    Ok(Some(path))
}

/// Every branch but `main`, by name.
pub async fn list(root: &Root) -> Result<Vec<BranchRecord>> {
    let mut out = Vec::new();
    for path in root.list(&refs_dir()).await? {
        let Some(file) = path.rsplit('/').next() else { continue };
        let Some(name) = file.strip_suffix(".json") else { continue };
        if let Some(r) = record(root, name).await? {
            out.push(r);
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for ok in ["feature", "a", "fix-1.2_x", "A9"] {
            validate_name(ok).unwrap();
        }
        for bad in ["", "-x", ".x", "a/b", "a..b", "a b", "é", "tree", "x.lock", &"a".repeat(65)] {
            assert_eq!(validate_name(bad).unwrap_err().code(), crate::codes::BRANCH_INVALID.code, "{bad}");
        }
    }

    #[test]
    fn codes_and_routing() {
        assert_eq!(code_of("main"), 0);
        assert_ne!(code_of("feature"), 0);
        assert_eq!(code_of("feature"), code_of("feature"));
        let main = BranchPath::main();
        let a = Arc::new(BranchPath { name: "a".into(), parent: Some((main.clone(), 5)) });
        let b = BranchPath { name: "b".into(), parent: Some((a.clone(), 9)) };
        assert_eq!(b.owner_of(3).name, "main");
        assert_eq!(b.owner_of(5).name, "main");
        assert_eq!(b.owner_of(7).name, "a");
        assert_eq!(b.owner_of(10).name, "b");
        assert_eq!(b.manifest_at(Some(4)), "__manifest");
        assert_eq!(b.manifest_at(Some(5)), "__manifest/tree/a");
        assert_eq!(b.manifest_at(Some(9)), "__manifest/tree/b");
        assert_eq!(b.location("nodes/Person"), "nodes/Person/tree/b");
        assert_eq!(b.lineage().len(), 3);
    }
}
