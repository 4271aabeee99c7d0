//! A graph's history: every publish is a commit with its actor, kind,
//! message and per-type changes; reads at any commit or time; conditional
//! writes; pages of commits that do not read more as history grows.

use omnigraph::Error;
use omnigraph::graph::WriteOptions;
use omnigraph::graph::history::At;
use omnigraph::load::{LoadMode, LoadOptions};
use omnigraph::{Graph, query};
use serde_json::{Value as Json, json};

use crate::common::*;

const SCHEMA: &str = "node Person { name: String @key  age: I32? }";
const ADD: &str = "query add($n: String, $a: I32?) { insert Person { name: $n, age: $a } }";
const AGE: &str = "query age($n: String, $a: I32) { update Person set { age: $a } where name = $n }";
const DEL: &str = "query del($n: String) { delete Person where name = $n }";
const ALL: &str = "query all() { match { $p: Person } return { $p.name, $p.age } order { $p.name } }";

fn by(actor: &str, message: Option<&str>) -> WriteOptions {
    WriteOptions { actor: Some(actor.into()), message: message.map(str::to_string), if_commit: None }
}

async fn mutate(g: &Graph, src: &str, params: Json, opts: &WriteOptions) -> omnigraph::Result<query::MutationReport> {
    let plan = query::compile(g.schema(), src).unwrap().remove(0);
    query::run_mutation_with(g, &plan, &params, opts).await
}

async fn names_at(g: &Graph, at: Option<&At>) -> Vec<(String, Json)> {
    let plan = query::compile(g.schema(), ALL).unwrap().remove(0);
    let deadline = query::limits::Deadline::start(g.query_limits().timeout);
    let r = query::run_read_at(g, &plan, &json!({}), deadline, at).await.unwrap();
    r.json_rows().map(|row| (row["p.name"].as_str().unwrap().to_string(), row["p.age"].clone())).collect()
}

#[test]
fn every_write_is_a_commit_with_its_actor_kind_message_and_changes() {
    rt().block_on(async {
        let t = new_graph(SCHEMA).await;
        let g = Graph::open_for_write(&t.uri(), &session()).await.unwrap();
        let mut opts = LoadOptions::new(LoadMode::Append, "seed");
        opts.write = by("loader", Some("first people"));
        let data = "{\"type\":\"Person\",\"data\":{\"name\":\"ada\",\"age\":36}}\n{\"type\":\"Person\",\"data\":{\"name\":\"alan\"}}\n";
        let loaded = omnigraph::load::load(&g, std::io::Cursor::new(data.as_bytes().to_vec()), &opts, &mut |_| {}).await.unwrap();
        let added = mutate(&g, ADD, json!({"n": "grace", "a": 45}), &by("alice", Some("add grace"))).await.unwrap();
        let aged = mutate(&g, AGE, json!({"n": "ada", "a": 37}), &by("bob", None)).await.unwrap();
        let deleted = mutate(&g, DEL, json!({"n": "alan"}), &by("bob", None)).await.unwrap();
        // A mutation that matches nothing makes no commit and names the head.
        let nothing = mutate(&g, DEL, json!({"n": "nobody"}), &by("bob", None)).await.unwrap();
        assert_eq!(nothing.commit, deleted.commit);

        let page = g.commits(10, None).await.unwrap();
        let kinds: Vec<&str> = page.commits.iter().map(|c| c.kind.as_str()).collect();
        // The load's `@key` index is built in a commit of its own.
        assert_eq!(kinds, ["mutate", "mutate", "mutate", "index", "load", "init"], "newest first: {page:?}");
        assert_eq!(page.next, None);
        let [del, age, add, index, load, init] = &page.commits[..] else { unreachable!() };
        assert_eq!(index.actor, "omnigraph");
        assert_eq!(
            (del.id.as_str(), age.id.as_str(), add.id.as_str(), load.id.as_str()),
            (deleted.commit.as_str(), aged.commit.as_str(), added.commit.as_str(), loaded.commit.as_str())
        );
        assert_eq!((load.actor.as_str(), load.message.as_deref()), ("loader", Some("first people")));
        assert_eq!((add.actor.as_str(), add.message.as_deref()), ("alice", Some("add grace")));
        assert_eq!((age.actor.as_str(), age.message.as_deref()), ("bob", None));
        assert_eq!(load.changes["Person"].inserted, 2);
        assert_eq!(add.changes["Person"].inserted, 1);
        assert_eq!((age.changes["Person"].updated, age.changes["Person"].inserted), (1, 0));
        assert_eq!(del.changes["Person"].deleted, 1);
        assert!(init.changes.is_empty() && init.parents.is_empty());
        // Each commit's parent is the one before it; times never go back.
        for w in page.commits.windows(2) {
            assert_eq!(w[0].parents, vec![w[1].id.clone()]);
            assert!(w[0].time_us() > w[1].time_us(), "{} then {}", w[1].time, w[0].time);
            assert!(w[0].id > w[1].id, "ids sort by time");
        }
        // One commit by id; the snapshot names its commit.
        assert_eq!(g.commit(&add.id).await.unwrap(), *add);
        assert_eq!(g.snapshot().await.unwrap().commit.id, del.id);
    });
}

#[test]
fn reads_at_a_commit_or_a_time_see_the_graph_as_it_was() {
    rt().block_on(async {
        let t = new_graph(SCHEMA).await;
        let g = Graph::open_for_write(&t.uri(), &session()).await.unwrap();
        let first = mutate(&g, ADD, json!({"n": "ada", "a": 36}), &by("a", None)).await.unwrap();
        // The first commit's own time: the last commit at or before it is
        // that one, however soon the next one follows.
        let between = chrono::DateTime::parse_from_rfc3339(&g.commit(&first.commit).await.unwrap().time).unwrap().to_utc();
        mutate(&g, AGE, json!({"n": "ada", "a": 37}), &by("a", None)).await.unwrap();
        mutate(&g, ADD, json!({"n": "grace", "a": 45}), &by("a", None)).await.unwrap();

        let then = vec![("ada".to_string(), json!(36))];
        assert_eq!(names_at(&g, Some(&At::Commit(first.commit.clone()))).await, then);
        assert_eq!(names_at(&g, Some(&At::Time(between))).await, then);
        assert_eq!(names_at(&g, None).await, vec![("ada".to_string(), json!(37)), ("grace".to_string(), json!(45))]);
        // A reader at an old commit: its snapshot names it, export reads it.
        let old = g.snapshot_at(Some(&At::Commit(first.commit.clone()))).await.unwrap();
        assert_eq!((old.commit.id.as_str(), old.manifest_version), (first.commit.as_str(), first.manifest_version));
        let mut out = Vec::new();
        let r = omnigraph::export::export_at(&g, None, Some(&At::Commit(first.commit.clone())), &mut out).await.unwrap();
        assert_eq!((r.rows, r.commit.as_str()), (1, first.commit.as_str()));
        assert!(String::from_utf8(out).unwrap().contains("\"age\":36"));

        // Before the first commit, an unknown id, another graph's id, junk.
        let before_all = chrono::DateTime::parse_from_rfc3339("2001-01-01T00:00:00Z").unwrap().to_utc();
        assert!(matches!(g.snapshot_at(Some(&At::Time(before_all))).await, Err(Error::CommitNotFound { .. })));
        let other = new_graph(SCHEMA).await;
        let og = Graph::open(&other.uri(), &session()).await.unwrap();
        let foreign = og.snapshot().await.unwrap().commit.id;
        for id in [foreign.as_str(), "01M96AZQTR00000000FFFFCD7E", "7ZZZZZZZZZZZZZZZZZZZZZZZZZ"] {
            let e = g.commit(id).await.unwrap_err();
            assert_eq!(e.code(), "OG-HISTORY-001", "{id}: {e}");
        }
        for junk in ["", "yesterday", "01M96AZQTR", "2026-13-45T99:00:00Z", &"x".repeat(10_000)] {
            let e = At::parse(junk).unwrap_err();
            assert_eq!(e.code(), "OG-ARG-001", "{junk:.40}: {e}");
        }
    });
}

#[test]
fn of_two_conditional_writes_on_one_head_exactly_one_lands() {
    rt().block_on(async {
        let t = new_graph(SCHEMA).await;
        let a = Graph::open_for_write(&t.uri(), &session()).await.unwrap();
        let b = Graph::open_for_write(&t.uri(), &session()).await.unwrap();
        mutate(&a, ADD, json!({"n": "ada", "a": 36}), &by("a", None)).await.unwrap();
        let head = a.snapshot().await.unwrap().commit.id;
        let cond = |who: &str| WriteOptions { actor: Some(who.into()), message: None, if_commit: Some(head.clone()) };
        let (ca, cb) = (cond("a"), cond("b"));
        let (ra, rb) = tokio::join!(mutate(&a, AGE, json!({"n": "ada", "a": 40}), &ca), mutate(&b, AGE, json!({"n": "ada", "a": 50}), &cb));
        let (won, lost, value) = match (ra, rb) {
            (Ok(w), Err(l)) => (w, l, 40),
            (Err(l), Ok(w)) => (w, l, 50),
            other => panic!("exactly one must land: {other:?}"),
        };
        match &lost {
            Error::HeadMoved { expected, head: now } => assert_eq!((expected, now), (&head, &won.commit)),
            e => panic!("expected HeadMoved, got {e}"),
        }
        assert_eq!(lost.http_status(), 412);
        assert_eq!(names_at(&a, None).await, vec![("ada".to_string(), json!(value))]);
        assert_eq!(a.commits(10, None).await.unwrap().commits.len(), 3, "init, insert, the one conditional write");

        // A stale head refuses a mutation and a load alike, before any work.
        let stale = cond("c");
        let e = mutate(&a, ADD, json!({"n": "x"}), &stale).await.unwrap_err();
        assert_eq!(e.code(), "OG-HISTORY-003");
        let mut opts = LoadOptions::new(LoadMode::Append, "x");
        opts.write = stale.clone();
        let data = b"{\"type\":\"Person\",\"data\":{\"name\":\"y\"}}\n".to_vec();
        let e = omnigraph::load::load(&a, std::io::Cursor::new(data), &opts, &mut |_| {}).await.unwrap_err();
        assert_eq!(e.code(), "OG-HISTORY-003");
        // On the head it names, it writes.
        let now = a.snapshot().await.unwrap().commit.id;
        let ok = mutate(&a, ADD, json!({"n": "z"}), &WriteOptions { if_commit: Some(now.clone()), ..by("c", None) }).await.unwrap();
        assert_eq!(a.commit(&ok.commit).await.unwrap().parents, vec![now]);
        assert_eq!(names_at(&a, None).await.len(), 2);
    });
}

#[test]
fn commits_page_newest_first_and_a_batch_never_mixes_actors() {
    rt().block_on(async {
        let t = new_graph(SCHEMA).await;
        let g = Graph::open_for_write(&t.uri(), &session()).await.unwrap();
        // Writes queued together publish per actor: a commit has one actor.
        let turn = g.write_queue().turn().await;
        let mut tasks = Vec::new();
        for i in 0..12 {
            let (gc, who) = (g.clone(), if i % 3 == 0 { "carol" } else { "dave" });
            tasks.push(tokio::spawn(async move { (who, mutate(&gc, ADD, json!({"n": format!("p{i}")}), &by(who, None)).await.unwrap()) }));
            while g.write_queue().waiting_len() < i + 1 {
                tokio::task::yield_now().await;
            }
        }
        drop(turn);
        for task in tasks {
            let (who, report) = task.await.unwrap();
            assert_eq!(g.commit(&report.commit).await.unwrap().actor, who);
        }
        let mut seen = Vec::new();
        let mut before = None;
        loop {
            let page = g.commits(5, before.as_deref()).await.unwrap();
            assert!(page.commits.len() <= 5);
            seen.extend(page.commits.iter().map(|c| c.manifest_version));
            match page.next {
                Some(n) => before = Some(n),
                None => break,
            }
        }
        let head = g.snapshot().await.unwrap().manifest_version;
        assert_eq!(seen, (1..=head).rev().collect::<Vec<_>>(), "every commit once, newest first");
        assert!(head > 3, "12 writes of two actors in at least 2 commits");
    });
}

#[test]
fn a_bad_message_or_actor_is_refused_and_writes_nothing() {
    rt().block_on(async {
        let t = new_graph(SCHEMA).await;
        let g = Graph::open_for_write(&t.uri(), &session()).await.unwrap();
        let before = g.snapshot().await.unwrap().manifest_version;
        for opts in [
            WriteOptions { message: Some("x".repeat(5000)), ..Default::default() },
            WriteOptions { message: Some("bell\u{7}".into()), ..Default::default() },
            WriteOptions { actor: Some(String::new()), ..Default::default() },
            WriteOptions { if_commit: Some("not-a-commit".into()), ..Default::default() },
        ] {
            let e = mutate(&g, ADD, json!({"n": "x"}), &opts).await.unwrap_err();
            assert_eq!(e.code(), "OG-ARG-001", "{opts:?}: {e}");
        }
        assert_eq!(g.snapshot().await.unwrap().manifest_version, before);
        // A multi-line message is kept whole.
        let r = mutate(&g, ADD, json!({"n": "x"}), &by("e", Some("line one\nline two"))).await.unwrap();
        assert_eq!(g.commit(&r.commit).await.unwrap().message.as_deref(), Some("line one\nline two"));
    });
}

#[test]
fn changes_list_each_commit_s_inserted_updated_and_deleted_entities_in_order() {
    rt().block_on(async {
        let t = new_graph(SCHEMA).await;
        let g = Graph::open_for_write(&t.uri(), &session()).await.unwrap();
        let start = g.snapshot().await.unwrap().commit.id;
        let a = mutate(&g, ADD, json!({"n": "ada", "a": 36}), &by("a", None)).await.unwrap();
        mutate(&g, ADD, json!({"n": "alan", "a": 41}), &by("a", None)).await.unwrap();
        let aged = mutate(&g, AGE, json!({"n": "ada", "a": 37}), &by("b", Some("birthday"))).await.unwrap();
        let gone = mutate(&g, DEL, json!({"n": "alan"}), &by("b", None)).await.unwrap();

        let mut seen = Vec::new();
        let n = omnigraph::changes::changes(&g, &start, None, &mut |c| {
            seen.push(c);
            Ok(())
        })
        .await
        .unwrap();
        assert_eq!(n, 4);
        let ids: Vec<&str> = seen.iter().map(|c| c["commit"].as_str().unwrap()).collect();
        assert_eq!((ids[0], ids[2], ids[3]), (a.commit.as_str(), aged.commit.as_str(), gone.commit.as_str()), "in commit order");
        let p = |i: usize| seen[i]["changes"]["Person"].clone();
        assert_eq!(p(0)["inserted"][0]["data"], json!({"name": "ada", "age": 36}), "{}", seen[0]);
        assert_eq!((p(0)["updated"].as_array().unwrap().len(), p(0)["deleted"].as_array().unwrap().len()), (0, 0));
        let u = &p(2)["updated"][0];
        assert_eq!((u["old"].clone(), u["new"].clone()), (json!({"age": 36}), json!({"age": 37})), "only the changed property: {u}");
        assert_eq!(seen[2]["message"], json!("birthday"));
        assert_eq!((p(3)["deleted"].as_array().unwrap().len(), p(3)["inserted"].as_array().unwrap().len()), (1, 0));

        // A range, a cursor that resumes, and a range backwards.
        let mut resumed = Vec::new();
        omnigraph::changes::changes(&g, &aged.commit, None, &mut |c| {
            resumed.push(c["commit"].as_str().unwrap().to_string());
            Ok(())
        })
        .await
        .unwrap();
        assert_eq!(resumed, vec![gone.commit.clone()]);
        let mut none = 0;
        omnigraph::changes::changes(&g, &a.commit, Some(&a.commit), &mut |_| {
            none += 1;
            Ok(())
        })
        .await
        .unwrap();
        assert_eq!(none, 0);
        let e = omnigraph::changes::changes(&g, &gone.commit, Some(&a.commit), &mut |_| Ok(())).await.unwrap_err();
        assert_eq!(e.code(), "OG-ARG-001");
    });
}
