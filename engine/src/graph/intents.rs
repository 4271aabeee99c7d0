//! Taking turns with the other handles that write to one graph.
//!
//! Two handles (two servers, a server and a CLI) that write to one graph at
//! the same time race for each publish, and a lost write runs again on the
//! new head (`graph::retry`). Left alone the races are not fair: the winner's
//! clients are already waiting, so its next batch stages before the loser
//! has run its lost one again, and takes the next version first; under a
//! sustained load one handle kept losing (docs/dev/benchmarks.md, "Writes
//! through two servers").
//!
//! So writers that meet take turns, in the order of their *intents*: empty
//! objects `__intents/<ulid>.<handle>.<expiry>` under the graph, the ULID
//! saying when the intent began (its place in the line). A handle announces
//! one when its write lost a race, or when it finds another handle's intent
//! before a write; it withdraws it once that write is answered. Before a
//! write that is not itself a retry, a handle that saw another writer
//! lately (a lost race, an intent, the head moved by someone else) lists the
//! intents; if another handle has a live one, it announces its own and waits
//! until no live intent older than its own is left (at most [`MAX_WAIT`]).
//! So the loser of a race goes next, the handle that waited for it after
//! it, and two handles that both keep writing alternate without racing
//! again, each publishing all its waiting requests per turn (group commit),
//! instead of throwing away half of their work in lost races. A handle that
//! saw no other writer looks only now and then ([`QUIET_CHECK_EVERY`]) on
//! object storage; on a local disk it always looks (one directory read, or
//! a missing directory). Uncontended writes pay nothing more.
//!
//! Nothing depends on an intent for correctness: a crashed handle's intent
//! ends at its expiry (the next handle that sees it expired deletes it),
//! clocks that disagree only change the order of the line and how long an
//! intent lives, and every wait is bounded.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::layout::INTENTS_DIR;
use crate::storage::Root;

/// How long an intent lives unless renewed: longer than a retry takes, short
/// enough that a crashed loser holds nobody up for long.
const LIFETIME: Duration = Duration::from_secs(3);

/// The longest one write waits for other handles' intents: a few turns of
/// the others' writes.
pub const MAX_WAIT: Duration = Duration::from_secs(1);

/// How long after seeing another writer a handle looks for intents before
/// every write.
const ACTIVE_FOR: Duration = Duration::from_secs(5);

/// How often a handle that saw no other writer looks for intents on object
/// storage (where a look is a request).
const QUIET_CHECK_EVERY: Duration = Duration::from_millis(250);

/// This handle's intents, and what it knows of the others'.
#[derive(Debug)]
pub(crate) struct Intents {
    /// Names this handle's intents.
    handle: String,
    /// This handle's live intent: its place in the line (a ULID), its
    /// object name, and when it expires.
    mine: tokio::sync::Mutex<Option<Mine>>,
    seen: Mutex<Seen>,
    /// Writes that waited for another handle's intent.
    waits: AtomicU64,
}

#[derive(Debug)]
struct Mine {
    place: String,
    name: String,
    expires: SystemTime,
}

#[derive(Debug, Default)]
struct Seen {
    /// Until when this handle looks before every write.
    active_until: Option<Instant>,
    last_look: Option<Instant>,
    /// The handle's count of `__manifest` scans at the last look: a scan
    /// means someone else moved the head.
    scans: u64,
}

impl Default for Intents {
    fn default() -> Self {
        Intents { handle: ulid::Ulid::new().to_string(), mine: Default::default(), seen: Default::default(), waits: AtomicU64::new(0) }
    }
}

impl Intents {
    /// How many writes through this handle waited for another's intent.
    pub(crate) fn waits(&self) -> u64 {
        self.waits.load(Ordering::Relaxed)
    }

    /// After a lost race, or before waiting for another handle: makes sure
    /// this handle has a live intent (renewed, in the same place, when half
    /// its life is gone). Best effort: a store that refuses it leaves the
    /// writes unfair, not wrong.
    pub(crate) async fn announce(&self, root: &Root) {
        self.seen.lock().expect("intents").active_until = Some(Instant::now() + ACTIVE_FOR);
        let mut mine = self.mine.lock().await;
        let now = SystemTime::now();
        if let Some(m) = &*mine
            && m.expires.duration_since(now).unwrap_or_default() > LIFETIME / 2
        {
            return;
        }
        let place = mine.as_ref().map_or_else(|| ulid::Ulid::new().to_string(), |m| m.place.clone());
        let expires = now + LIFETIME;
        let name = format!("{place}.{}.{}", self.handle, millis(expires));
        if put(root, &name).await
            && let Some(old) = mine.replace(Mine { place, name, expires })
        {
            remove(root, &old.name).await;
        }
    }

    /// Once the write that announced is answered: removes the intent.
    pub(crate) async fn withdraw(&self, root: &Root) {
        if let Some(m) = self.mine.lock().await.take() {
            remove(root, &m.name).await;
        }
    }

    /// Before a write that is not a retry: if another handle has a live
    /// intent, announces this handle's and waits (polling) until no live
    /// intent older than it is left, at most [`MAX_WAIT`]. `scans` is the
    /// handle's count of `__manifest` scans so far.
    pub(crate) async fn give_way(&self, root: &Root, scans: u64) {
        if !self.should_look(root, scans) {
            return;
        }
        let began = Instant::now();
        let poll = if root.is_local() { Duration::from_micros(500) } else { Duration::from_millis(5) };
        let mut waited = false;
        loop {
            let place = self.mine.lock().await.as_ref().map(|m| m.place.clone());
            let Some(first) = self.first_other(root).await else { return };
            match place {
                // Not in the line yet: join it.
                None => self.announce(root).await,
                Some(p) if first > p => return,
                Some(_) => {}
            }
            if !waited {
                waited = true;
                self.waits.fetch_add(1, Ordering::Relaxed);
            }
            if began.elapsed() >= MAX_WAIT {
                return;
            }
            tokio::time::sleep(poll).await;
        }
    }

    fn should_look(&self, root: &Root, scans: u64) -> bool {
        let now = Instant::now();
        let mut seen = self.seen.lock().expect("intents");
        if scans != seen.scans {
            seen.scans = scans;
            seen.active_until = Some(now + ACTIVE_FOR);
        }
        let active = seen.active_until.is_some_and(|t| now < t);
        let due = root.is_local() || seen.last_look.is_none_or(|t| now.duration_since(t) >= QUIET_CHECK_EVERY);
        if active || due {
            seen.last_look = Some(now);
        }
        active || due
    }

    /// The place of the oldest live intent of another handle, if any;
    /// deletes expired ones.
    async fn first_other(&self, root: &Root) -> Option<String> {
        let now = millis(SystemTime::now());
        let mut first: Option<String> = None;
        for name in list(root).await {
            let mut parts = name.split('.');
            let (Some(place), Some(handle), Some(expiry), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else { continue };
            if handle == self.handle {
                continue;
            }
            match expiry.parse::<u128>() {
                Ok(e) if e > now => {
                    if first.as_deref().is_none_or(|f| place < f) {
                        first = Some(place.to_string());
                    }
                }
                _ => remove(root, &name).await,
            }
        }
        first
    }
}

fn millis(t: SystemTime) -> u128 {
    t.duration_since(UNIX_EPOCH).unwrap_or_default().as_millis()
}

/// The local directory of intents, for a root on a local disk.
fn local_dir(root: &Root) -> Option<std::path::PathBuf> {
    root.is_local().then(|| std::path::Path::new(root.uri()).join(INTENTS_DIR))
}

async fn put(root: &Root, name: &str) -> bool {
    // On a local disk, plain file calls: an intent need not survive a power
    // loss, and the object store would fsync it.
    if let Some(dir) = local_dir(root) {
        return std::fs::create_dir_all(&dir).and_then(|_| std::fs::write(dir.join(name), b"")).is_ok();
    }
    root.put_if_absent(&format!("{INTENTS_DIR}/{name}"), Vec::new()).await.is_ok()
}

async fn remove(root: &Root, name: &str) {
    if let Some(dir) = local_dir(root) {
        let _ = std::fs::remove_file(dir.join(name));
        return;
    }
    let _ = root.delete(&format!("{INTENTS_DIR}/{name}")).await;
}

/// The intents' names (none if they cannot be listed).
async fn list(root: &Root) -> Vec<String> {
    if let Some(dir) = local_dir(root) {
        let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
        return entries.filter_map(|e| e.ok()?.file_name().into_string().ok()).collect();
    }
    let prefix = format!("{INTENTS_DIR}/");
    root.list(INTENTS_DIR).await.unwrap_or_default().into_iter().filter_map(|p| p.strip_prefix(&prefix).map(str::to_string)).collect()
}
