//! `init`: safe by construction.
//!
//! 1. Preflight: any graph artifact under the root -> `AlreadyInitialized`,
//!    nothing touched (a held claim -> `InitInProgress`).
//! 2. Claim: `__init_claim.json` put-if-absent with this init's op id; then
//!    the preflight again while holding it.
//! 3. Build: empty table datasets, schema files (put-if-absent), and last the
//!    genesis `__manifest` commit stamped with the op id. Only a root
//!    whose manifest carries a genesis id is a graph.
//! 4. Failure before the genesis commit removes exactly the artifacts this
//!    init created, then its claim. A genesis commit whose outcome cannot
//!    be read back keeps everything, claim included, and says so.
//! 5. The claim is removed; a leftover claim whose op_id matches the
//!    genesis id is harmless and cleared by the next open for write.

use serde::{Deserialize, Serialize};

use super::layout::{self, ARTIFACTS};
use super::owner::Lease;
use crate::error::{Error, Result};
use crate::failpoint;
use crate::schema::{SchemaIr, compile_schema};
use crate::session::Session;
use crate::storage::columns::table_schema;
use crate::storage::manifest::{self, TableEntry};
use crate::storage::{Created, Root, table};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InitClaim {
    /// The init's op id (claims written before the rename say `attempt`).
    #[serde(alias = "attempt")]
    pub op_id: String,
    /// After its end an owner on another host counts as gone.
    #[serde(flatten)]
    pub lease: Lease,
    pub started_at: String,
}

/// How long an init may run before a claim from another host counts as abandoned.
pub const INIT_LEASE_MS: i64 = 600_000;

impl InitClaim {
    /// True when the init that holds this claim is gone: its process died
    /// (same host) or its lease ran out.
    pub fn abandoned(&self) -> bool {
        self.lease.abandoned()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SchemaState {
    pub format_version: u32,
    pub schema_ir_hash: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct InitReport {
    pub root: String,
    pub genesis_id: String,
    pub schema_hash: String,
    pub manifest_version: u64,
    pub tables: Vec<String>,
}

/// Graph artifacts present under the root, other than `ignore`.
async fn artifacts_present(root: &Root, ignore: Option<&str>) -> Result<Vec<String>> {
    let top = root.top_level().await?;
    Ok(top.into_iter().filter(|name| ARTIFACTS.contains(&name.as_str()) && Some(name.as_str()) != ignore).collect())
}

pub(crate) async fn read_claim(root: &Root) -> Result<Option<InitClaim>> {
    match root.get(layout::INIT_CLAIM).await? {
        None => Ok(None),
        Some(b) => Ok(Some(serde_json::from_slice(&b).map_err(|e| Error::storage(root.child_uri(layout::INIT_CLAIM), format!("unreadable init claim: {e}")))?)),
    }
}

async fn preflight(root: &Root, ignore: Option<&str>) -> Result<()> {
    let present = artifacts_present(root, ignore).await?;
    if present.is_empty() {
        return Ok(());
    }
    if present.iter().any(|a| a == layout::INIT_CLAIM)
        && let Some(claim) = read_claim(root).await?
    {
        return Err(Error::InitInProgress { root: root.uri().to_string(), op_id: claim.op_id });
    }
    Err(Error::AlreadyInitialized { root: root.uri().to_string(), artifact: present.join(", ") })
}

/// Creates a new graph at `uri` from `.pg` source.
/// Its first commit's actor is this process's ([`process_actor`]).
///
/// [`process_actor`]: crate::storage::commit::process_actor
pub async fn init(uri: &str, session: &Session, schema_src: &str) -> Result<InitReport> {
    init_with_op_id(uri, session, schema_src, &ulid::Ulid::new().to_string(), &crate::storage::commit::process_actor()).await
}

/// [`init`] with the op id chosen by the caller: a catalog create
/// passes its operation id, so the init claim, every table's first commit
/// and the genesis manifest row are stamped with it, and recovery can tell
/// "this operation's init landed" from anyone else's graph. `actor` is the
/// first commit's.
pub async fn init_with_op_id(uri: &str, session: &Session, schema_src: &str, op_id: &str, actor: &str) -> Result<InitReport> {
    let ir = compile_schema(schema_src).map_err(Error::Schema)?;
    let root = Root::new(session, uri, true)?;
    preflight(&root, None).await?;

    let op_id = op_id.to_string();
    let now = chrono::Utc::now();
    let claim = InitClaim { op_id: op_id.clone(), lease: Lease::new(INIT_LEASE_MS), started_at: now.to_rfc3339() };
    match root.put_if_absent(layout::INIT_CLAIM, serde_json::to_vec_pretty(&claim).expect("claim serializes")).await? {
        Created::Yes => {}
        Created::AlreadyExists => {
            let other = read_claim(&root).await?.map(|c| c.op_id).unwrap_or_else(|| "unknown".into());
            return Err(Error::InitInProgress { root: root.uri().to_string(), op_id: other });
        }
    }
    if let Err(e) = preflight(&root, Some(layout::INIT_CLAIM)).await {
        release_claim(&root, &op_id).await;
        return Err(e);
    }

    let mut created: Vec<String> = Vec::new();
    match build(&root, &ir, schema_src, &op_id, actor, &mut created).await {
        Ok(report) => {
            failpoint::hit("init.after_genesis");
            release_claim(&root, &op_id).await;
            Ok(report)
        }
        Err(BuildError::BeforeGenesis(e)) => {
            for path in created.iter().rev() {
                let _ = root.delete_prefix(path).await;
                let _ = root.delete(path).await;
            }
            release_claim(&root, &op_id).await;
            Err(e)
        }
        Err(BuildError::Unknown(reason)) => Err(Error::InitOutcomeUnknown { root: root.uri().to_string(), op_id, reason }),
    }
}

/// Removes the claim only if it is still this init's.
async fn release_claim(root: &Root, op_id: &str) {
    if let Ok(Some(c)) = read_claim(root).await
        && c.op_id == op_id
    {
        let _ = root.delete(layout::INIT_CLAIM).await;
    }
}

enum BuildError {
    BeforeGenesis(Error),
    Unknown(String),
}

async fn build(root: &Root, ir: &SchemaIr, src: &str, op_id: &str, actor: &str, created: &mut Vec<String>) -> Result<InitReport, BuildError> {
    let mut entries = Vec::new();
    for (i, t) in ir.types().enumerate() {
        let location = t.location();
        if failpoint::fail("init.create_table") && i == 1 {
            return Err(BuildError::BeforeGenesis(Error::storage(root.child_uri(&location), "injected failure")));
        }
        // The parent (`nodes/`, `edges/`) is ours too: preflight saw none.
        let parent = location.split('/').next().unwrap_or_default().to_string();
        if !created.contains(&parent) {
            created.push(parent);
        }
        created.push(location.clone());
        let ds = table::create_empty(root.session(), &root.child_uri(&location), table_schema(t), op_id).await.map_err(BuildError::BeforeGenesis)?;
        entries.push(TableEntry { key: t.table_key(), version: ds.version().version, location, row_count: 0, op_id: op_id.to_string() });
        if i == 0 {
            failpoint::hit("init.after_first_table");
        }
    }
    let hash = ir.content_hash();
    let state = SchemaState { format_version: ir.format_version, schema_ir_hash: hash.clone() };
    let files: [(&str, Vec<u8>); 3] = [
        (layout::SCHEMA_PG, src.as_bytes().to_vec()),
        (layout::SCHEMA_IR, serde_json::to_vec_pretty(ir).expect("IR serializes")),
        (layout::SCHEMA_STATE, serde_json::to_vec_pretty(&state).expect("state serializes")),
    ];
    for (name, bytes) in files {
        match root.put_if_absent(name, bytes).await.map_err(BuildError::BeforeGenesis)? {
            Created::Yes => created.push(name.to_string()),
            Created::AlreadyExists => {
                return Err(BuildError::BeforeGenesis(Error::AlreadyInitialized { root: root.uri().to_string(), artifact: name.to_string() }));
            }
        }
    }
    failpoint::hit("init.before_genesis");
    let manifest_uri = root.child_uri(layout::MANIFEST);
    created.push(layout::MANIFEST.to_string());
    let genesis = if failpoint::fail("init.genesis_unknown") {
        Err(Error::storage(&manifest_uri, "injected ambiguous failure"))
    } else {
        let draft = crate::storage::commit::CommitDraft { actor: actor.to_string(), kind: "init".into(), ..Default::default() };
        manifest::create_genesis(root, &entries, op_id, &draft).await
    };
    let mstate = match genesis {
        Ok(s) => s,
        Err(e) => {
            if failpoint::fail("init.genesis_unknown") {
                return Err(BuildError::Unknown(e.to_string()));
            }
            // Did it land? Read it back before deciding anything.
            match manifest::read(root, &crate::storage::branch::BranchPath::main(), None).await {
                Ok((_, s)) if s.genesis_id.as_deref() == Some(op_id) => s,
                Ok(_) => return Err(BuildError::Unknown(format!("{e}; a manifest exists but is not this init's"))),
                Err(_) if root.list(layout::MANIFEST).await.map(|l| l.is_empty()).unwrap_or(false) => {
                    return Err(BuildError::BeforeGenesis(e));
                }
                Err(read_err) => return Err(BuildError::Unknown(format!("{e}; reading it back failed: {read_err}"))),
            }
        }
    };
    Ok(InitReport {
        root: root.uri().to_string(),
        genesis_id: op_id.to_string(),
        schema_hash: hash,
        manifest_version: mstate.version,
        tables: entries.into_iter().map(|e| e.key).collect(),
    })
}
