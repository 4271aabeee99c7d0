//! The live registry: which graphs this process serves right now.
//!
//! The catalog is the authority; the registry is a cache of open graph
//! handles that follows it:
//! - at boot and every refresh interval it reads the catalog, opens graphs
//!   that became active, and drops graphs that are no longer active (or
//!   whose incarnation changed);
//! - a request for an id it does not know reads that id's entry at once;
//! - a graph whose storage is missing or has unfinished writes is
//!   quarantined: listed with the reason, not served, and retried after
//!   each recovery sweep.
//!
//! Staleness cannot leak a write: every read and write checks the graph's
//! own `__manifest` fence, so a graph deleted through another process fails
//! here with `graph_retired` even before the next refresh, and the handle
//! is dropped on the spot.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use omnigraph::Graph;
use omnigraph_catalog::{Catalog, CatalogError, GraphEntry, State};
use omnigraph_policy::Policy;
use serde::Serialize;

use crate::error::{ApiError, ApiResult};

/// A graph this process serves.
#[derive(Debug)]
pub struct Served {
    pub entry: GraphEntry,
    /// Opened for write (reads go through it too).
    pub graph: Graph,
    /// The server's policy plus the rules attached to this graph.
    pub policy: Arc<Policy>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Quarantine {
    pub code: String,
    pub reason: String,
    #[serde(skip)]
    pub incarnation: String,
}

#[derive(Debug, Clone)]
enum Slot {
    Serving(Arc<Served>),
    Quarantined(Quarantine),
}

/// How this process treats a graph.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum Serving {
    Serving,
    Quarantined { code: String, reason: String },
    NotServed,
}

#[derive(Debug)]
pub struct Registry {
    catalog: Catalog,
    base_policy: Arc<Policy>,
    slots: RwLock<HashMap<String, Slot>>,
}

enum Opened {
    Served(Served),
    Quarantined(Quarantine),
    /// Retired while its entry still said active (a delete is under way).
    Retiring,
}

fn quarantine(e: &GraphEntry, code: &str, reason: String) -> Opened {
    Opened::Quarantined(Quarantine { code: code.to_string(), reason, incarnation: e.incarnation.clone() })
}

impl Registry {
    /// Graphs are opened through the catalog's engine session, which holds
    /// the cache budget every served graph shares and the query limits.
    pub fn new(catalog: Catalog, base_policy: Arc<Policy>) -> Registry {
        Registry { catalog, base_policy, slots: RwLock::new(HashMap::new()) }
    }

    /// The engine session every served graph is opened through.
    pub fn session(&self) -> &omnigraph::Session {
        self.catalog.session()
    }

    fn slot(&self, id: &str) -> Option<Slot> {
        self.slots.read().expect("registry lock").get(id).cloned()
    }

    fn set(&self, id: &str, slot: Option<Slot>) {
        let mut slots = self.slots.write().expect("registry lock");
        match slot {
            Some(s) => slots.insert(id.to_string(), s),
            None => slots.remove(id),
        };
    }

    /// Opens an active entry's graph, or says why it cannot be served.
    async fn open(&self, e: &GraphEntry) -> Opened {
        use omnigraph::Error as E;
        let checked = match Graph::open(&e.location, self.catalog.session()).await {
            Ok(g) => g,
            Err(E::GraphRetired { .. }) => return Opened::Retiring,
            Err(err @ (E::RecoveryRequired { .. } | E::InitIncomplete { .. })) => {
                return quarantine(e, err.code(), format!("pending recovery: {err}"));
            }
            Err(err @ E::NotAGraph { .. }) => return quarantine(e, err.code(), format!("storage is missing: {err}")),
            Err(err) => return quarantine(e, err.code(), format!("does not open: {err}")),
        };
        match checked.snapshot().await {
            Ok(s) if e.genesis_id.is_some() && s.genesis_id != e.genesis_id => {
                return quarantine(
                    e,
                    crate::codes::GENESIS_MISMATCH.code,
                    format!("{} holds a different graph (genesis {:?}, catalog says {:?})", e.location, s.genesis_id, e.genesis_id),
                );
            }
            Ok(_) => {}
            Err(E::GraphRetired { .. }) => return Opened::Retiring,
            Err(err) => return quarantine(e, err.code(), format!("does not read: {err}")),
        }
        let graph = match checked.into_writable().await {
            Ok(g) => g,
            Err(E::GraphRetired { .. }) => return Opened::Retiring,
            Err(err) => return quarantine(e, err.code(), format!("does not open for write: {err}")),
        };
        let policy = match self.policy_of(e) {
            Ok(p) => p,
            Err(err) => return quarantine(e, err.code(), format!("its stored policy does not compile: {err}")),
        };
        Opened::Served(Served { entry: e.clone(), graph, policy })
    }

    /// The policy of a graph this process serves now.
    pub fn served_policy(&self, id: &str) -> Option<Arc<Policy>> {
        match self.slot(id) {
            Some(Slot::Serving(s)) => Some(s.policy.clone()),
            _ => None,
        }
    }

    /// The policy of graph `e`, compiled once: the served handle's when this
    /// process serves that incarnation, else compiled from the entry.
    pub fn cached_policy_of(&self, e: &GraphEntry) -> Result<Arc<Policy>, omnigraph_policy::PolicyError> {
        match self.slot(&e.id) {
            Some(Slot::Serving(s)) if s.entry.incarnation == e.incarnation => Ok(s.policy.clone()),
            _ => self.policy_of(e),
        }
    }

    /// The policy of graph `e`: the server's plus the rules stored on the
    /// entry. The one place that combines them, for served graphs and for
    /// entries this process does not serve (listing, showing).
    pub fn policy_of(&self, e: &GraphEntry) -> Result<Arc<Policy>, omnigraph_policy::PolicyError> {
        match e.metadata.get("policy") {
            Some(rules) if !rules.is_null() => Ok(Arc::new(self.base_policy.with_graph_rules(&e.id, rules)?)),
            _ => Ok(self.base_policy.clone()),
        }
    }

    /// Brings the slot of `e` in line with it: serve, quarantine or drop.
    async fn track(&self, e: &GraphEntry, retry_quarantined: bool) -> Option<Slot> {
        let wanted = e.state == State::Active && e.op.is_none();
        if !wanted {
            self.set(&e.id, None);
            return None;
        }
        match self.slot(&e.id) {
            Some(Slot::Serving(s)) if s.entry.incarnation == e.incarnation => return Some(Slot::Serving(s)),
            Some(Slot::Quarantined(q)) if q.incarnation == e.incarnation && !retry_quarantined => return Some(Slot::Quarantined(q)),
            _ => {}
        }
        let slot = match self.open(e).await {
            Opened::Served(s) => {
                // Two requests (or a request and a refresh) may open the
                // same incarnation at once: the first one set is served,
                // so that one process never writes through two handles
                // (their write turns would not exclude each other).
                let mut slots = self.slots.write().expect("registry lock");
                if let Some(Slot::Serving(first)) = slots.get(&e.id)
                    && first.entry.incarnation == e.incarnation
                {
                    return Some(Slot::Serving(first.clone()));
                }
                crate::log!("serving graph `{}` (incarnation {})", e.id, e.incarnation);
                let served = Slot::Serving(Arc::new(s));
                slots.insert(e.id.clone(), served.clone());
                return Some(served);
            }
            Opened::Quarantined(q) => {
                if !matches!(self.slot(&e.id), Some(Slot::Quarantined(ref old)) if old.reason == q.reason) {
                    crate::log!("quarantined graph `{}`: {} {}", e.id, q.code, q.reason);
                }
                Some(Slot::Quarantined(q))
            }
            Opened::Retiring => None,
        };
        self.set(&e.id, slot.clone());
        slot
    }

    /// The graph to serve for `id`: from the cache, or from the catalog
    /// when this process has not seen the id yet.
    pub async fn resolve(&self, id: &str) -> ApiResult<Arc<Served>> {
        omnigraph_catalog::entry::validate_id(id)?;
        match self.slot(id) {
            Some(Slot::Serving(s)) => return Ok(s),
            Some(Slot::Quarantined(q)) => return Err(ApiError::quarantined(id, &q.reason)),
            None => {}
        }
        let e = self.catalog.entry(id).await?.ok_or_else(|| CatalogError::NotFound { id: id.to_string() })?;
        match e.state {
            State::Active if e.op.is_none() => match self.track(&e, true).await {
                Some(Slot::Serving(s)) => Ok(s),
                Some(Slot::Quarantined(q)) => Err(ApiError::quarantined(id, &q.reason)),
                None => Err(CatalogError::NotFound { id: id.to_string() }.into()),
            },
            State::Active | State::Reserved | State::Initializing | State::Deleting => {
                let (op, kind) = e.op.as_ref().map(|o| (o.id.clone(), o.kind.to_string())).unwrap_or_default();
                Err(CatalogError::InProgress { id: id.to_string(), op, kind }.into())
            }
            State::Deleted | State::Failed => Err(CatalogError::NotFound { id: id.to_string() }.into()),
        }
    }

    /// Drops `id` if this process still serves `incarnation` of it.
    pub fn evict(&self, id: &str, incarnation: &str) {
        let mut slots = self.slots.write().expect("registry lock");
        let matches = match slots.get(id) {
            Some(Slot::Serving(s)) => s.entry.incarnation == incarnation,
            Some(Slot::Quarantined(q)) => q.incarnation == incarnation,
            None => false,
        };
        if matches {
            slots.remove(id);
        }
    }

    /// Re-reads the catalog and follows it. With `retry_quarantined`,
    /// quarantined graphs are opened again (after a recovery sweep).
    pub async fn refresh(&self, retry_quarantined: bool) -> Result<(), CatalogError> {
        let graphs = self.catalog.list().await?;
        let mut seen = std::collections::HashSet::new();
        for g in &graphs {
            seen.insert(g.entry.id.clone());
            self.track(&g.entry, retry_quarantined).await;
        }
        self.slots.write().expect("registry lock").retain(|id, _| seen.contains(id));
        Ok(())
    }

    pub fn serving(&self, id: &str) -> Serving {
        match self.slot(id) {
            Some(Slot::Serving(_)) => Serving::Serving,
            Some(Slot::Quarantined(q)) => Serving::Quarantined { code: q.code, reason: q.reason },
            None => Serving::NotServed,
        }
    }

    /// Waits until every served graph's writes and the maintenance after
    /// them (a fold) are done: what shutdown does before the process exits.
    pub async fn settle(&self) {
        let served: Vec<Arc<Served>> =
            self.slots.read().expect("registry lock").values().filter_map(|s| if let Slot::Serving(s) = s { Some(s.clone()) } else { None }).collect();
        for s in served {
            s.graph.write_queue().settle().await;
        }
    }

    /// Mutations waiting for a write turn, over every served graph.
    pub fn writes_waiting(&self) -> usize {
        let slots = self.slots.read().expect("registry lock");
        slots.values().map(|s| if let Slot::Serving(s) = s { s.graph.write_queue().waiting_len() } else { 0 }).sum()
    }

    /// Writes that lost the publish race to another writer (another server
    /// or process on the same graph) and ran again on the new head, over
    /// every served graph since it was opened.
    pub fn write_retries(&self) -> u64 {
        let slots = self.slots.read().expect("registry lock");
        slots.values().map(|s| if let Slot::Serving(s) = s { s.graph.write_queue().retries() } else { 0 }).sum()
    }

    /// Writes that waited for another writer's retry to have its turn
    /// (`graph::intents`), over every served graph since it was opened.
    pub fn write_waits(&self) -> u64 {
        let slots = self.slots.read().expect("registry lock");
        slots.values().map(|s| if let Slot::Serving(s) = s { s.graph.write_queue().waits() } else { 0 }).sum()
    }

    /// The graphs this process serves now, by id.
    pub fn served(&self) -> Vec<(String, Arc<Served>)> {
        let slots = self.slots.read().expect("registry lock");
        let mut out: Vec<(String, Arc<Served>)> =
            slots.iter().filter_map(|(id, s)| if let Slot::Serving(s) = s { Some((id.clone(), s.clone())) } else { None }).collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// (served, quarantined) counts.
    pub fn counts(&self) -> (usize, usize) {
        let slots = self.slots.read().expect("registry lock");
        let served = slots.values().filter(|s| matches!(s, Slot::Serving(_))).count();
        (served, slots.len() - served)
    }

    /// Registers a graph this process just created.
    pub async fn adopt(&self, e: &GraphEntry) {
        self.track(e, true).await;
    }
}
