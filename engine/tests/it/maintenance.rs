//! Maintenance: `optimize` compacts and re-indexes as a commit that
//! changes no entity; `cleanup` removes what no kept commit needs. Every
//! kept commit reads the same before and after both.

use omnigraph::Error;
use omnigraph::graph::WriteOptions;
use omnigraph::graph::cleanup::{CleanupOptions, cleanup};
use omnigraph::graph::history::At;
use omnigraph::graph::optimize::optimize;
use omnigraph::{Graph, query};
use serde_json::{Value as Json, json};

use crate::common::*;

const ADD: &str = "query add($n: String, $a: I32?) { insert Person { name: $n, age: $a } }";
const AGE: &str = "query age($n: String, $a: I32) { update Person set { age: $a } where name = $n }";
const DEL: &str = "query del($n: String) { delete Person where name = $n }";
const KNOW: &str = "query know($a: String, $b: String) { insert Knows { from: $a, to: $b } }";
const ONE: &str = "query one($n: String) { match { $p: Person { name: $n } } return { $p.age } }";

async fn mutate(g: &Graph, src: &str, params: Json) -> String {
    let plan = query::compile(g.schema(), src).unwrap().remove(0);
    query::run_mutation_with(g, &plan, &params, &WriteOptions::default()).await.unwrap().commit
}

async fn export_at(g: &Graph, at: Option<&At>) -> omnigraph::Result<Vec<String>> {
    let mut out = Vec::new();
    omnigraph::export::export_at(g, None, at, &mut out).await?;
    let mut lines: Vec<String> = String::from_utf8(out).unwrap().lines().map(str::to_string).collect();
    lines.sort();
    Ok(lines)
}

async fn fragments(g: &Graph) -> usize {
    let snap = g.snapshot().await.unwrap();
    let mut n = 0;
    for t in g.schema().types() {
        n += g.open_table(&snap, t).await.unwrap().get_fragments().len();
    }
    n
}

fn dir_bytes(p: &std::path::Path) -> u64 {
    walkdir(p).iter().map(|f| f.metadata().map(|m| m.len()).unwrap_or(0)).sum()
}

fn walkdir(p: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(p).into_iter().flatten().flatten() {
        let path = e.path();
        if path.is_dir() { out.extend(walkdir(&path)) } else { out.push(path) }
    }
    out
}

/// A graph with many small writes: inserts, updates, deletes, edges.
async fn churned() -> (TempGraph, Graph, Vec<String>) {
    let t = new_graph(SOCIAL).await;
    let g = Graph::open_for_write(&t.uri(), &session()).await.unwrap();
    let people: String = (0..30).map(|i| format!("{{\"type\":\"Person\",\"data\":{{\"name\":\"p{i}\",\"age\":{i}}}}}\n")).collect();
    load_into(&g, omnigraph::load::LoadMode::Append, &people).await.unwrap();
    let mut commits = Vec::new();
    for i in 0..24 {
        commits.push(mutate(&g, ADD, json!({"n": format!("n{i}"), "a": i})).await);
        commits.push(mutate(&g, AGE, json!({"n": format!("p{i}"), "a": 100 + i})).await);
        if i % 3 == 0 {
            commits.push(mutate(&g, DEL, json!({"n": format!("p{}", 29 - i)})).await);
        }
        commits.push(mutate(&g, KNOW, json!({"a": format!("n{i}"), "b": "p0"})).await);
    }
    (t, g, commits)
}

#[test]
fn optimize_compacts_reindexes_and_every_commit_reads_the_same() {
    rt().block_on(async {
        let (_t, g, commits) = churned().await;
        let mut before = Vec::new();
        for c in commits.iter().step_by(7) {
            before.push((c.clone(), export_at(&g, Some(&At::Commit(c.clone()))).await.unwrap()));
        }
        let head_before = g.snapshot().await.unwrap().commit;
        let rows_before = export_at(&g, None).await.unwrap();
        let frags_before = fragments(&g).await;

        let opts = WriteOptions { actor: Some("ops".into()), message: Some("nightly".into()), if_commit: None };
        let report = optimize(&g, &opts).await.unwrap();
        let c = report.commit.clone().expect("optimize had work to do");
        assert_eq!((c.kind.as_str(), c.actor.as_str(), c.message.as_deref()), ("optimize", "ops", Some("nightly")));
        assert_eq!(c.parents, vec![head_before.id.clone()]);
        assert!(c.changes.is_empty(), "optimize changes no entity: {c:?}");
        let frags_after = fragments(&g).await;
        assert!(frags_after * 4 <= frags_before, "fragments {frags_before} -> {frags_after}: {report:?}");
        assert!(report.tables.iter().any(|t| t.deleted_rows_dropped > 0), "deleted rows dropped: {report:?}");
        // The optimize commit checkpoints `__manifest`: one small file to read.
        assert_eq!(g.snapshot().await.unwrap().manifest_ds().get_fragments().len(), 1);

        // The same rows at the head and at every earlier commit.
        assert_eq!(export_at(&g, None).await.unwrap(), rows_before);
        for (c, rows) in &before {
            assert_eq!(&export_at(&g, Some(&At::Commit(c.clone()))).await.unwrap(), rows, "commit {c}");
        }
        // The change feed sees a commit with no changes.
        let mut seen = Vec::new();
        omnigraph::changes::changes(&g, &head_before.id, None, &mut |v| {
            seen.push(v);
            Ok(())
        })
        .await
        .unwrap();
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0]["changes"], json!({}));
        // The key index covers the compacted table: a point read, and a
        // fresh handle sees the same.
        let plan = query::compile(g.schema(), ONE).unwrap().remove(0);
        let deadline = query::limits::Deadline::start(g.query_limits().timeout);
        let r = query::run_read_at(&g, &plan, &json!({"n": "p3"}), deadline, None).await.unwrap();
        assert_eq!(r.json_rows().next().unwrap()["p.age"], json!(103));
        let fresh = Graph::open(g.root().uri(), &session()).await.unwrap();
        assert_eq!(export_at(&fresh, None).await.unwrap(), rows_before);
        let snap = fresh.snapshot().await.unwrap();
        for t in fresh.schema().types() {
            let ds = fresh.open_table(&snap, t).await.unwrap();
            let frags: Vec<u32> = ds.get_fragments().iter().map(|f| f.id() as u32).collect();
            for idx in lance::index::DatasetIndexExt::load_indices(&ds).await.unwrap().iter() {
                let bitmap = idx.fragment_bitmap.as_ref().unwrap();
                assert!(frags.iter().all(|f| bitmap.contains(*f)), "{} index {} covers every fragment", t.name, idx.name);
            }
        }
        // Nothing left to do: no commit.
        let again = optimize(&g, &opts).await.unwrap();
        assert!(again.commit.is_none(), "{again:?}");
        // Writes go on after it.
        mutate(&g, ADD, json!({"n": "later", "a": 1})).await;
        assert_eq!(export_at(&g, None).await.unwrap().len(), rows_before.len() + 1);
    });
}

#[test]
fn cleanup_removes_only_what_no_kept_commit_needs() {
    rt().block_on(async {
        let (t, g, commits) = churned().await;
        optimize(&g, &WriteOptions::default()).await.unwrap();
        let page = g.commits(1000, None).await.unwrap();
        let total = page.commits.len();
        let kept: Vec<String> = page.commits.iter().take(5).map(|c| c.id.clone()).collect();
        let mut kept_rows = Vec::new();
        for c in &kept {
            kept_rows.push(export_at(&g, Some(&At::Commit(c.clone()))).await.unwrap());
        }
        let bytes_before = dir_bytes(t.dir.path());

        // A dry run says what would go and removes nothing.
        let opts = CleanupOptions { keep_days: 0.0, keep_commits: 5, dry_run: true };
        let dry = cleanup(&g, &opts).await.unwrap();
        assert!(dry.dry_run && dry.bytes_freed > 0, "{dry:?}");
        assert_eq!(dry.commits_removed as usize, total - 5);
        assert_eq!(g.commits(1000, None).await.unwrap().commits.len(), total);
        assert_eq!(dir_bytes(t.dir.path()), bytes_before);

        // The default retention (a week) keeps everything made just now.
        let default = cleanup(&g, &CleanupOptions::default()).await.unwrap();
        assert_eq!((default.commits_removed, default.bytes_freed), (0, 0), "{default:?}");

        let done = cleanup(&g, &CleanupOptions { dry_run: false, ..opts }).await.unwrap();
        assert_eq!(done.commits_removed, dry.commits_removed);
        assert_eq!(done.oldest_kept.id, kept[4]);
        let bytes_after = dir_bytes(t.dir.path());
        assert!(bytes_after < bytes_before, "{bytes_before} -> {bytes_after}");
        assert!(done.bytes_freed > 0);

        // The kept commits read the same; the list ends at the oldest kept.
        let page = g.commits(1000, None).await.unwrap();
        assert_eq!(page.commits.iter().map(|c| c.id.clone()).collect::<Vec<_>>(), kept);
        assert_eq!(page.next, None);
        for (c, rows) in kept.iter().zip(&kept_rows) {
            assert_eq!(&export_at(&g, Some(&At::Commit(c.clone()))).await.unwrap(), rows);
        }
        // A removed commit is "pruned", to read and as a change cursor.
        let old = At::Commit(commits[0].clone());
        assert!(matches!(export_at(&g, Some(&old)).await, Err(Error::CommitPruned { .. })));
        assert!(matches!(g.commit(&commits[0]).await, Err(Error::CommitPruned { .. })));
        let e = omnigraph::changes::changes(&g, &commits[0], None, &mut |_| Ok(())).await.unwrap_err();
        assert!(matches!(e, Error::CommitPruned { .. }), "{e}");
        assert!(e.to_string().contains("export --at"), "{e}");
        // A fresh handle reads the head; writes and a second cleanup go on.
        let fresh = Graph::open_for_write(&t.uri(), &session()).await.unwrap();
        assert_eq!(export_at(&fresh, None).await.unwrap(), kept_rows[0]);
        mutate(&fresh, ADD, json!({"n": "after", "a": 2})).await;
        let second = cleanup(&fresh, &CleanupOptions { keep_days: 0.0, keep_commits: 1, dry_run: false }).await.unwrap();
        assert_eq!(second.commits_removed, 5);
        assert_eq!(fresh.commits(10, None).await.unwrap().commits.len(), 1);
        // Bad retention is refused before anything is read.
        for bad in [CleanupOptions { keep_commits: 0, ..opts }, CleanupOptions { keep_days: -1.0, ..opts }, CleanupOptions { keep_days: f64::NAN, ..opts }] {
            assert!(matches!(cleanup(&fresh, &bad).await, Err(Error::InvalidArgument(_))), "{bad:?}");
        }
    });
}

#[test]
fn cleanup_keeps_the_commit_a_live_snapshot_reads() {
    rt().block_on(async {
        let (_t, g, commits) = churned().await;
        let old = At::Commit(commits[3].clone());
        let rows = export_at(&g, Some(&old)).await.unwrap();
        let reading = g.snapshot_at(Some(&old)).await.unwrap();
        let done = cleanup(&g, &CleanupOptions { keep_days: 0.0, keep_commits: 1, dry_run: false }).await.unwrap();
        assert_eq!(done.oldest_kept.id, commits[3]);
        assert_eq!(export_at(&g, Some(&old)).await.unwrap(), rows);
        drop(reading);
        let done = cleanup(&g, &CleanupOptions { keep_days: 0.0, keep_commits: 1, dry_run: false }).await.unwrap();
        assert!(done.commits_removed > 0);
        assert!(matches!(export_at(&g, Some(&old)).await, Err(Error::CommitPruned { .. })));
        // Reads through the handle's cached views still work.
        let plan = query::compile(g.schema(), ONE).unwrap().remove(0);
        let deadline = query::limits::Deadline::start(g.query_limits().timeout);
        let r = query::run_read_at(&g, &plan, &json!({"n": "n5"}), deadline, None).await.unwrap();
        assert_eq!(r.json_rows().next().unwrap()["p.age"], json!(5));
    });
}

#[test]
fn views_cached_before_optimize_and_cleanup_still_answer_after_them() {
    rt().block_on(async {
        let (_t, g, _) = churned().await;
        const HOP: &str = "query hop($n: String) { match { $p: Person { name: $n } $p knows $f } return { $f.name } order { $f.name } }";
        const ALL: &str = "query all() { match { $p: Person } return { $p.name, $p.age } order { $p.name } }";
        let read = |src: &'static str, params: Json| {
            let g = g.clone();
            async move {
                let plan = query::compile(g.schema(), src).unwrap().remove(0);
                let deadline = query::limits::Deadline::start(g.query_limits().timeout);
                query::run_read_at(&g, &plan, &params, deadline, None).await.unwrap().json_rows().collect::<Vec<_>>()
            }
        };
        // Views are built on this handle, then the table under them is
        // rewritten and the versions they were built on removed.
        let hop = read(HOP, json!({"n": "n3"})).await;
        let all = read(ALL, json!({})).await;
        optimize(&g, &WriteOptions::default()).await.unwrap();
        cleanup(&g, &CleanupOptions { keep_days: 0.0, keep_commits: 1, dry_run: false }).await.unwrap();
        mutate(&g, AGE, json!({"n": "n3", "a": 77})).await;
        mutate(&g, KNOW, json!({"a": "n3", "b": "n4"})).await;
        let hop_after = read(HOP, json!({"n": "n3"})).await;
        let all_after = read(ALL, json!({})).await;
        let fresh = Graph::open(g.root().uri(), &session()).await.unwrap();
        let plan = query::compile(fresh.schema(), ALL).unwrap().remove(0);
        let deadline = query::limits::Deadline::start(fresh.query_limits().timeout);
        let expect: Vec<_> = query::run_read_at(&fresh, &plan, &json!({}), deadline, None).await.unwrap().json_rows().collect();
        assert_eq!(all_after, expect);
        assert_eq!(all_after.len(), all.len());
        assert_eq!(hop_after.len(), hop.len() + 1, "{hop:?} -> {hop_after:?}");
    });
}

#[test]
fn maintenance_runs_while_another_handle_writes_and_reads() {
    rt().block_on(async {
        let t = new_graph(SOCIAL).await;
        let people: String = (0..20).map(|i| format!("{{\"type\":\"Person\",\"data\":{{\"name\":\"p{i}\",\"age\":{i}}}}}\n")).collect();
        load(&t.uri(), omnigraph::load::LoadMode::Append, &people).await.unwrap();
        // Two handles, as two processes would have: one writes and reads,
        // the other optimizes and cleans up, keeping the last 5 commits.
        let writer = Graph::open_for_write(&t.uri(), &session()).await.unwrap();
        let admin = Graph::open_for_write(&t.uri(), &session()).await.unwrap();
        let work = {
            let g = writer.clone();
            tokio::spawn(async move {
                const COUNT: &str = "query c() { match { $p: Person } return { count($p) as n } }";
                let count = query::compile(g.schema(), COUNT).unwrap().remove(0);
                for i in 0..120 {
                    mutate(&g, ADD, json!({"n": format!("w{i}"), "a": i})).await;
                    if i % 3 == 0 {
                        mutate(&g, AGE, json!({"n": format!("w{}", i / 2), "a": 100 + i % 50})).await;
                    }
                    let deadline = query::limits::Deadline::start(g.query_limits().timeout);
                    let r = query::run_read_at(&g, &count, &json!({}), deadline, None).await.expect("a read while maintenance runs");
                    assert_eq!(r.json_rows().next().unwrap()["n"], json!(20 + i + 1));
                }
            })
        };
        let mut rounds = 0;
        let keep = CleanupOptions { keep_days: 0.0, keep_commits: 5, dry_run: false };
        // Until the writer is done (or failed: its panic is reported below).
        while !work.is_finished() {
            optimize(&admin, &WriteOptions::default()).await.unwrap();
            cleanup(&admin, &keep).await.unwrap();
            rounds += 1;
        }
        work.await.unwrap();
        assert!(rounds >= 2, "maintenance ran {rounds} time(s)");
        let fresh = Graph::open(&t.uri(), &session()).await.unwrap();
        let rows = export_at(&fresh, None).await.unwrap();
        for i in 0..120 {
            assert!(rows.iter().any(|l| l.contains(&format!("\"name\":\"w{i}\""))), "w{i} was acknowledged and must be there");
        }
        assert_eq!(rows.iter().filter(|l| l.contains("\"type\":\"Person\"")).count(), 140);
    });
}
