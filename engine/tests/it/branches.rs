//! Branches: created without copying, isolated from each other, listed and
//! deleted; merges three-way at the entity level with typed conflicts.

use omnigraph::Error;
use omnigraph::graph::{WriteOptions, branches};
use omnigraph::load::LoadMode;
use omnigraph::merge::{self, MergeOptions};
use omnigraph::{Graph, query};
use serde_json::{Value as Json, json};

use crate::common::*;

const SEED: &str = r#"{"type":"Person","data":{"name":"ada","age":36,"email":"ada@x"}}
{"type":"Person","data":{"name":"alan","age":41}}
{"type":"Person","data":{"name":"grace","age":45}}
{"type":"Company","data":{"name":"acme"}}
{"edge":"Knows","from":"ada","to":"alan"}
{"edge":"WorksAt","from":"ada","to":"acme"}
"#;

pub async fn mutate(g: &Graph, src: &str, params: Json) -> omnigraph::Result<query::MutationReport> {
    let plan = query::compile(g.schema(), src).unwrap().remove(0);
    query::run_mutation_with(g, &plan, &params, &WriteOptions::default()).await
}

pub const ADD: &str = "query add($n: String, $a: I32?) { insert Person { name: $n, age: $a } }";
pub const ADD_MAIL: &str = "query add($n: String, $e: String) { insert Person { name: $n, email: $e } }";
pub const AGE: &str = "query age($n: String, $a: I32) { update Person set { age: $a } where name = $n }";
pub const DEL: &str = "query del($n: String) { delete Person where name = $n }";
pub const KNOW: &str = "query know($a: String, $b: String) { insert Knows { from: $a, to: $b } }";
pub const JOIN: &str = "query join($a: String, $c: String) { insert WorksAt { from: $a, to: $c } }";

/// The graph a handle reads, as sorted export lines (edge ids removed).
pub async fn lines(g: &Graph) -> Vec<String> {
    lines_at(g, None).await
}

/// [`lines`] of the graph as it was at `at`.
pub async fn lines_at(g: &Graph, at: Option<&omnigraph::graph::history::At>) -> Vec<String> {
    let mut out = Vec::new();
    omnigraph::export::export_at(g, None, at, &mut out).await.unwrap();
    let mut lines: Vec<String> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| {
            let mut v: Json = serde_json::from_str(l).unwrap();
            if v.get("edge").is_some() {
                v.as_object_mut().unwrap().remove("id");
            }
            v.to_string()
        })
        .collect();
    lines.sort();
    lines
}

/// The SOCIAL graph with `SEED` loaded, and a handle to write it.
pub async fn seeded() -> (TempGraph, Graph) {
    let t = new_graph(SOCIAL).await;
    let g = Graph::open_for_write(&t.uri(), &session()).await.unwrap();
    load_into(&g, LoadMode::Append, SEED).await.unwrap();
    (t, g)
}

/// [`seeded`], with a branch `f` made from its head.
async fn seeded_with_branch() -> (TempGraph, Graph, Graph) {
    let (t, g) = seeded().await;
    branches::create(&g, "f", None, &WriteOptions::default()).await.unwrap();
    let f = g.on_branch("f").await.unwrap();
    (t, g, f)
}

fn into_main() -> MergeOptions {
    MergeOptions::default()
}

#[test]
fn a_branch_reads_and_writes_apart_from_main() {
    rt().block_on(async {
        let (t, g) = seeded().await;
        let before = lines(&g).await;
        let info = branches::create(&g, "feature", None, &WriteOptions::default()).await.unwrap();
        assert_eq!(info.head.kind, "branch");
        assert_eq!(info.head.branch, "feature");
        let main_head = g.snapshot().await.unwrap().commit;
        assert_eq!(info.head.parents, vec![main_head.id.clone()]);
        assert_eq!(info.created_from.as_deref(), Some(main_head.id.as_str()));

        let f = g.on_branch("feature").await.unwrap();
        assert_eq!(lines(&f).await, before, "a new branch reads what its commit published");
        mutate(&f, ADD, json!({"n": "linus", "a": 30})).await.unwrap();
        mutate(&f, AGE, json!({"n": "ada", "a": 37})).await.unwrap();
        mutate(&f, DEL, json!({"n": "grace"})).await.unwrap();
        assert_eq!(lines(&g).await, before, "main does not see the branch's writes");
        let on_f = lines(&f).await;
        assert!(on_f.iter().any(|l| l.contains("linus")) && !on_f.iter().any(|l| l.contains("grace")));

        // main moves on; the branch does not see it.
        mutate(&g, ADD, json!({"n": "barbara", "a": 50})).await.unwrap();
        assert!(!lines(&f).await.iter().any(|l| l.contains("barbara")));

        // Its history: its own commits, its first one, then main's up to the fork.
        let page = f.commits(20, None).await.unwrap();
        let kinds: Vec<&str> = page.commits.iter().map(|c| c.kind.as_str()).collect();
        assert_eq!(&kinds[..5], ["mutate", "mutate", "mutate", "branch", "index"], "{kinds:?}");
        assert!(page.commits[..4].iter().all(|c| c.branch == "feature"));
        assert_eq!(page.commits[4].id, main_head.id);
        // A commit of the branch is found by id, from the branch only.
        let own = &page.commits[0];
        assert_eq!(f.commit(&own.id).await.unwrap(), *own);
        assert!(matches!(g.commit(&own.id).await, Err(Error::CommitNotFound { .. })));
        // The changes since the branch was made.
        let mut feed = Vec::new();
        omnigraph::changes::changes(&f, &main_head.id, None, &mut |v| {
            feed.push(v);
            Ok(())
        })
        .await
        .unwrap();
        assert_eq!(feed.len(), 4);
        assert_eq!(feed[1]["changes"]["Person"]["inserted"][0]["data"]["name"], "linus");

        // A reopened graph sees the branch the same.
        let again = Graph::open(&t.uri(), &session()).await.unwrap().on_branch("feature").await.unwrap();
        assert_eq!(lines(&again).await, on_f);

        let listed = branches::list(&g).await.unwrap();
        let names: Vec<&str> = listed.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(names, ["main", "feature"]);
        assert_eq!(listed[1].head.id, own.id);

        branches::delete(&g, "feature").await.unwrap();
        assert!(matches!(g.on_branch("feature").await, Err(Error::BranchNotFound { .. })));
        assert!(lines(&g).await.iter().any(|l| l.contains("barbara")));
        let left: Vec<_> = walkdir(&std::path::Path::new(&t.uri()).join("nodes/Person/tree/feature"));
        assert!(left.is_empty(), "the branch's tables are gone: {left:?}");
        // The name can be used again, from the current main.
        branches::create(&g, "feature", None, &WriteOptions::default()).await.unwrap();
        assert_eq!(lines(&g.on_branch("feature").await.unwrap()).await, lines(&g).await);
    });
}

#[test]
fn bad_names_and_refusals_are_coded() {
    rt().block_on(async {
        let (_t, g) = seeded().await;
        let w = WriteOptions::default();
        for bad in ["", "a/b", "../x", "-x", "has space", &"x".repeat(65)] {
            let e = branches::create(&g, bad, None, &w).await.unwrap_err();
            assert_eq!(e.code(), "OG-BRANCH-001", "{bad}: {e}");
        }
        assert_eq!(branches::create(&g, "main", None, &w).await.unwrap_err().code(), "OG-BRANCH-003");
        branches::create(&g, "a", None, &w).await.unwrap();
        assert_eq!(branches::create(&g, "a", None, &w).await.unwrap_err().code(), "OG-BRANCH-003");
        assert_eq!(branches::delete(&g, "main").await.unwrap_err().code(), "OG-BRANCH-004");
        assert_eq!(branches::delete(&g, "nope").await.unwrap_err().code(), "OG-BRANCH-002");
        assert_eq!(g.on_branch("nope").await.unwrap_err().code(), "OG-BRANCH-002");
        // A branch of a branch; its parent cannot go first.
        branches::create(&g, "b", Some("a"), &w).await.unwrap();
        assert_eq!(branches::delete(&g, "a").await.unwrap_err().code(), "OG-BRANCH-004");
        assert_eq!(branches::create(&g, "c", Some("nope"), &w).await.unwrap_err().code(), "OG-BRANCH-002");
        assert_eq!(branches::create(&g, "c", Some("!!"), &w).await.unwrap_err().code(), "OG-ARG-001");
        let e = merge::merge(&g, "a", &MergeOptions { into: Some("a".into()), ..Default::default() }, &w).await.unwrap_err();
        assert_eq!(e.code(), "OG-MERGE-002");
    });
}

#[test]
fn a_branch_from_an_older_commit_reads_that_commit() {
    rt().block_on(async {
        let (_t, g) = seeded().await;
        let old = g.snapshot().await.unwrap().commit;
        let then = lines(&g).await;
        mutate(&g, ADD, json!({"n": "late", "a": 1})).await.unwrap();
        branches::create(&g, "past", Some(&old.id), &WriteOptions::default()).await.unwrap();
        let p = g.on_branch("past").await.unwrap();
        assert_eq!(lines(&p).await, then);
        // Writes on it go on from there.
        mutate(&p, ADD, json!({"n": "other", "a": 2})).await.unwrap();
        assert!(lines(&p).await.iter().any(|l| l.contains("other")));
        assert!(!lines(&g).await.iter().any(|l| l.contains("other")));
    });
}

#[test]
fn merges_fast_forward_then_are_up_to_date() {
    rt().block_on(async {
        let (_t, g, f) = seeded_with_branch().await;
        let w = WriteOptions::default();
        mutate(&f, ADD, json!({"n": "linus", "a": 30})).await.unwrap();
        mutate(&f, AGE, json!({"n": "ada", "a": 37})).await.unwrap();
        mutate(&f, DEL, json!({"n": "grace"})).await.unwrap();
        let main_before = g.snapshot().await.unwrap().commit;

        let dry = merge::merge(&g, "f", &MergeOptions { dry_run: true, ..into_main() }, &w).await.unwrap();
        assert_eq!(dry.outcome, "fast_forward");
        assert!(dry.commit.is_none());
        assert_eq!(g.snapshot().await.unwrap().commit.id, main_before.id, "a dry run writes nothing");
        let person = &dry.changes["Person"];
        assert_eq!((person.inserted, person.updated, person.deleted), (1, 1, 1));

        let r = merge::merge(&g, "f", &into_main(), &w).await.unwrap();
        assert_eq!(r.outcome, "fast_forward");
        let c = r.commit.unwrap();
        assert_eq!(c.kind, "merge");
        assert_eq!(c.parents, vec![main_before.id.clone(), r.source_head.clone()]);
        assert_eq!(lines(&g).await, lines(&f).await);
        let again = merge::merge(&g, "f", &into_main(), &w).await.unwrap();
        assert_eq!(again.outcome, "up_to_date");
        assert!(again.commit.is_none());
    });
}

#[test]
fn a_three_way_merge_takes_each_side_and_lists_every_conflict() {
    rt().block_on(async {
        let (_t, g, f) = seeded_with_branch().await;
        let w = WriteOptions::default();
        // Apart: each side changes its own entities.
        mutate(&f, ADD, json!({"n": "linus", "a": 30})).await.unwrap();
        mutate(&g, ADD, json!({"n": "barbara", "a": 50})).await.unwrap();
        mutate(&f, AGE, json!({"n": "ada", "a": 37})).await.unwrap();
        mutate(&g, AGE, json!({"n": "alan", "a": 42})).await.unwrap();
        // The same change on both sides is no conflict.
        mutate(&f, AGE, json!({"n": "grace", "a": 46})).await.unwrap();
        mutate(&g, AGE, json!({"n": "grace", "a": 46})).await.unwrap();
        let r = merge::merge(&g, "f", &into_main(), &w).await.unwrap();
        assert_eq!(r.outcome, "merged");
        let merged = lines(&g).await;
        for want in ["linus", "barbara", "\"age\":37", "\"age\":42", "\"age\":46"] {
            assert!(merged.iter().any(|l| l.contains(want)), "{want} in {merged:#?}");
        }
        // The branch is unchanged by the merge.
        assert!(!lines(&f).await.iter().any(|l| l.contains("barbara")));

        // Conflicts: nothing is written, all are listed.
        mutate(&f, AGE, json!({"n": "ada", "a": 60})).await.unwrap();
        mutate(&g, AGE, json!({"n": "ada", "a": 61})).await.unwrap();
        mutate(&f, DEL, json!({"n": "alan"})).await.unwrap();
        mutate(&g, AGE, json!({"n": "alan", "a": 43})).await.unwrap();
        mutate(&f, ADD, json!({"n": "twin", "a": 1})).await.unwrap();
        mutate(&g, ADD, json!({"n": "twin", "a": 2})).await.unwrap();
        let head = g.snapshot().await.unwrap().commit.id;
        let e = merge::merge(&g, "f", &into_main(), &w).await.unwrap_err();
        assert_eq!(e.code(), "OG-MERGE-001");
        let Error::MergeConflict { conflicts, .. } = &e else { panic!("{e}") };
        let got: Vec<(&str, &str)> = conflicts.iter().map(|c| (c.kind.as_str(), c.id.as_str())).collect();
        assert_eq!(got, [("divergent_update", "ada"), ("delete_vs_update", "alan"), ("divergent_insert", "twin")], "{conflicts:#?}");
        assert_eq!(conflicts[0].properties, ["age"]);
        assert_eq!(g.snapshot().await.unwrap().commit.id, head, "a merge with conflicts writes nothing");
        let j = e.to_json();
        assert_eq!(j["conflicts"].as_array().unwrap().len(), 3);
    });
}

#[test]
fn the_merged_graph_must_keep_the_constraints() {
    rt().block_on(async {
        let (_t, g, f) = seeded_with_branch().await;
        let w = WriteOptions::default();
        // An edge to a node the target deletes.
        mutate(&f, KNOW, json!({"a": "grace", "b": "alan"})).await.unwrap();
        mutate(&g, DEL, json!({"n": "grace"})).await.unwrap();
        // One @unique value taken on both sides by different nodes.
        mutate(&f, ADD_MAIL, json!({"n": "x1", "e": "same@x"})).await.unwrap();
        mutate(&g, ADD_MAIL, json!({"n": "x2", "e": "same@x"})).await.unwrap();
        // @card(0..1): one job on each side.
        mutate(&g, ADD, json!({"n": "joe", "a": 20})).await.unwrap();
        let co = "query co($n: String) { insert Company { name: $n } }";
        mutate(&g, co, json!({"n": "beta"})).await.unwrap();
        mutate(&f, co, json!({"n": "gamma"})).await.unwrap();
        mutate(&g, JOIN, json!({"a": "alan", "c": "beta"})).await.unwrap();
        mutate(&f, JOIN, json!({"a": "alan", "c": "gamma"})).await.unwrap();
        let e = merge::merge(&g, "f", &into_main(), &w).await.unwrap_err();
        let Error::MergeConflict { conflicts, .. } = &e else { panic!("{e}") };
        let kinds: Vec<(&str, &str)> = conflicts.iter().map(|c| (c.kind.as_str(), c.type_name.as_str())).collect();
        assert!(kinds.contains(&("orphan_edge", "Knows")), "{conflicts:#?}");
        assert!(kinds.contains(&("unique", "Person")), "{conflicts:#?}");
        assert!(kinds.contains(&("card", "Person")), "{conflicts:#?}");
        assert_eq!(conflicts.len(), 3, "{conflicts:#?}");
    });
}

#[test]
fn merging_again_starts_from_the_last_merge() {
    rt().block_on(async {
        let (_t, g, f) = seeded_with_branch().await;
        let w = WriteOptions::default();
        mutate(&f, AGE, json!({"n": "ada", "a": 37})).await.unwrap();
        mutate(&g, AGE, json!({"n": "alan", "a": 42})).await.unwrap();
        merge::merge(&g, "f", &into_main(), &w).await.unwrap();
        // ada changes again on the branch; main's ada is the merged 37: no conflict.
        mutate(&f, AGE, json!({"n": "ada", "a": 38})).await.unwrap();
        let r = merge::merge(&g, "f", &into_main(), &w).await.unwrap();
        assert_eq!(r.outcome, "merged", "main holds the last merge commit, the branch does not");
        assert!(lines(&g).await.iter().any(|l| l.contains("\"age\":38")));
        // main into the branch: alan's 42 arrives, ada stays 38.
        let back = merge::merge(&g, "main", &MergeOptions { into: Some("f".into()), ..Default::default() }, &w).await.unwrap();
        assert_eq!(back.outcome, "fast_forward", "{back:?}");
        assert_eq!(lines(&f).await, lines(&g).await);
        // And back again: nothing new on the branch since.
        mutate(&f, ADD, json!({"n": "z", "a": 1})).await.unwrap();
        mutate(&g, ADD, json!({"n": "y", "a": 1})).await.unwrap();
        let r = merge::merge(&g, "f", &MergeOptions { delete_source: true, ..into_main() }, &w).await.unwrap();
        assert_eq!(r.outcome, "merged");
        assert!(r.source_deleted);
        let names = lines(&g).await;
        assert!(names.iter().any(|l| l.contains("\"z\"")) && names.iter().any(|l| l.contains("\"y\"")));
        assert!(matches!(g.on_branch("f").await, Err(Error::BranchNotFound { .. })));
    });
}

/// Every file under `dir` (none when it does not exist).
fn walkdir(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else { return out };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() { out.extend(walkdir(&p)) } else { out.push(p) }
    }
    out
}

#[test]
fn maintenance_keeps_what_branches_and_merges_need() {
    rt().block_on(async {
        let (_t, g, f) = seeded_with_branch().await;
        let w = WriteOptions::default();
        mutate(&f, AGE, json!({"n": "ada", "a": 37})).await.unwrap();
        for i in 0..6 {
            mutate(&g, ADD, json!({"n": format!("m{i}"), "a": i})).await.unwrap();
        }
        // main compacts and cleans up everything it can.
        omnigraph::graph::optimize::optimize(&g, &w).await.unwrap();
        let opts = omnigraph::graph::cleanup::CleanupOptions { keep_days: 0.0, keep_commits: 1, dry_run: false };
        let report = omnigraph::graph::cleanup::cleanup(&g, &opts).await.unwrap();
        let fork = f.commits(10, None).await.unwrap().commits.iter().find(|c| c.kind == "branch").unwrap().parents[0].clone();
        assert!(report.oldest_kept.manifest_version <= g.commit(&fork).await.unwrap().manifest_version, "the fork is kept: {report:?}");
        // The branch still reads, and the merge reads main's changes across the optimize.
        assert!(lines(&f).await.iter().any(|l| l.contains("\"age\":37")));
        let r = merge::merge(&g, "f", &into_main(), &w).await.unwrap();
        assert_eq!((r.outcome, r.changes["Person"].updated), ("merged", 1));
        let merged = lines(&g).await;
        assert!(merged.iter().any(|l| l.contains("\"age\":37")) && merged.iter().any(|l| l.contains("\"m5\"")), "{merged:#?}");
        // A branch is maintained on its own.
        mutate(&f, AGE, json!({"n": "alan", "a": 50})).await.unwrap();
        omnigraph::graph::optimize::optimize(&f, &w).await.unwrap();
        omnigraph::graph::cleanup::cleanup(&f, &opts).await.unwrap();
        assert!(lines(&f).await.iter().any(|l| l.contains("\"age\":50")));
        assert!(!lines(&g).await.iter().any(|l| l.contains("\"age\":50")));
    });
}

#[test]
fn a_conditional_merge_lands_only_on_the_head_it_names() {
    rt().block_on(async {
        let (_t, g, f) = seeded_with_branch().await;
        mutate(&f, ADD, json!({"n": "x", "a": 1})).await.unwrap();
        let head = g.snapshot().await.unwrap().commit.id;
        mutate(&g, ADD, json!({"n": "y", "a": 1})).await.unwrap();
        let stale = WriteOptions { if_commit: Some(head), ..Default::default() };
        let e = merge::merge(&g, "f", &into_main(), &stale).await.unwrap_err();
        assert_eq!(e.code(), "OG-HISTORY-003", "{e}");
        let now = WriteOptions { if_commit: Some(g.snapshot().await.unwrap().commit.id), ..Default::default() };
        assert_eq!(merge::merge(&g, "f", &into_main(), &now).await.unwrap().outcome, "merged");
    });
}

#[test]
fn the_fence_of_a_deleted_graph_holds_on_every_branch() {
    rt().block_on(async {
        let (t, g) = seeded().await;
        let w = WriteOptions::default();
        branches::create(&g, "f", None, &w).await.unwrap();
        let f = g.on_branch("f").await.unwrap();
        mutate(&f, ADD, json!({"n": "before", "a": 1})).await.unwrap();
        let on_f = lines(&f).await;
        omnigraph::graph::fence::retire(g.root(), "01DELETE000000000000000000", None).await.unwrap();
        // A handle opened before the delete: refused on the branch too.
        let e = mutate(&f, ADD, json!({"n": "after", "a": 1})).await.unwrap_err();
        assert_eq!(e.code(), "OG-OPEN-005", "{e}");
        assert_eq!(f.snapshot().await.unwrap_err().code(), "OG-OPEN-005");
        let e = branches::create(&g, "late", None, &w).await.unwrap_err();
        assert_eq!(e.code(), "OG-OPEN-005", "{e}");
        // Retiring again (a retried delete) is a no-op; restore lifts both.
        omnigraph::graph::fence::retire(g.root(), "01DELETE000000000000000000", None).await.unwrap();
        omnigraph::graph::fence::restore(g.root(), "01RESTORE00000000000000000", Some("01DELETE000000000000000000")).await.unwrap();
        let f = Graph::open_for_write(&t.uri(), &session()).await.unwrap().on_branch("f").await.unwrap();
        assert_eq!(lines(&f).await, on_f);
        mutate(&f, ADD, json!({"n": "after", "a": 1})).await.unwrap();
    });
}

#[test]
fn a_merge_whose_base_was_cleaned_up_is_refused_with_a_code() {
    rt().block_on(async {
        let (_t, g, f) = seeded_with_branch().await;
        let w = WriteOptions::default();
        mutate(&f, ADD, json!({"n": "x0", "a": 1})).await.unwrap();
        merge::merge(&g, "f", &into_main(), &w).await.unwrap();
        // The merged source commit goes with the branch's own cleanup.
        for i in 1..5 {
            mutate(&f, ADD, json!({"n": format!("x{i}"), "a": 1})).await.unwrap();
        }
        let opts = omnigraph::graph::cleanup::CleanupOptions { keep_days: 0.0, keep_commits: 1, dry_run: false };
        omnigraph::graph::cleanup::cleanup(&f, &opts).await.unwrap();
        let head = g.snapshot().await.unwrap().commit.id;
        let e = merge::merge(&g, "f", &into_main(), &w).await.unwrap_err();
        assert_eq!(e.code(), "OG-MERGE-002", "{e}");
        assert!(e.to_string().contains("removed by cleanup"), "{e}");
        assert_eq!(g.snapshot().await.unwrap().commit.id, head, "nothing written");
    });
}
