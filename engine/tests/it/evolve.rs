//! Schema evolution: plan and apply as one commit, renames that keep rows
//! and ids, safe drops, constraints checked against stored rows, reads at
//! older commits with their own schema.

use omnigraph::Error;
use omnigraph::evolve::{self, EvolveOptions};
use omnigraph::graph::history::At;
use omnigraph::load::LoadMode;
use omnigraph::{Graph, query};
use serde_json::{Value as Json, json};

use crate::branches::{lines, seeded};
use crate::common::*;

/// `SOCIAL` with `edit` applied to its text.
fn social(edit: impl Fn(String) -> String) -> String {
    edit(SOCIAL.to_string())
}

async fn read(g: &Graph, src: &str, params: Json) -> omnigraph::Result<Vec<Json>> {
    let (g, _) = g.current().await?;
    let plan = query::compile(g.schema(), src)?.remove(0);
    Ok(query::run_read(&g, &plan, &params).await?.json_rows().collect())
}

fn opts() -> EvolveOptions {
    EvolveOptions::default()
}

fn codes(r: &evolve::EvolveReport) -> Vec<&str> {
    r.steps.iter().map(|s| s.code).collect()
}

#[test]
fn metadata_steps_keep_every_row_and_id_and_old_commits_read_the_old_schema() {
    rt().block_on(async {
        let (_t, g) = seeded().await;
        let before = lines(&g).await;
        let c0 = g.snapshot().await.unwrap().commit.id;
        let new = social(|s| {
            s.replace(
                "node Person {\n    name: String @key\n    age: I32?",
                "node Human @rename_from(\"Person\") {\n    name: String @key\n    years: I32? @rename_from(\"age\")\n    nick: String?",
            )
            .replace("@range(age,", "@range(years,")
            .replace("Person -> Person", "Human -> Human")
            .replace("WorksAt: Person", "WorksAt: Human")
        });
        let plan = evolve::plan(&g, &new, &opts()).await.unwrap();
        assert!(plan.ok, "{plan:?}");
        assert!(!plan.rewrites && !plan.loses_data, "{plan:?}");
        let c = codes(&plan);
        for want in ["OG-EVOLVE-003", "OG-EVOLVE-007", "OG-EVOLVE-004"] {
            assert!(c.contains(&want), "{want} missing from {c:?}");
        }
        // A plan changes nothing.
        assert_eq!(g.snapshot().await.unwrap().commit.id, c0);
        let data_files = || -> Vec<String> {
            let dir = std::path::Path::new(&_t.uri()).join("nodes/Person/data");
            let mut v: Vec<String> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
            v.sort();
            v
        };
        let files_before = data_files();
        let done = evolve::apply(&g, &new, &opts()).await.unwrap();
        assert_eq!(data_files(), files_before, "metadata steps write no data file");
        let commit = done.commit.expect("a commit");
        assert_eq!(commit.kind, "schema");
        // Every row, by its id, under the new names.
        let rows = read(&g, "query q() { match { $p: Human } return { $p.name, $p.years, $p.nick } order { $p.name } }", json!({})).await.unwrap();
        assert_eq!(
            rows,
            vec![
                json!({"p.name":"ada","p.years":36,"p.nick":null}),
                json!({"p.name":"alan","p.years":41,"p.nick":null}),
                json!({"p.name":"grace","p.years":45,"p.nick":null})
            ]
        );
        let knows = read(&g, "query q() { match { $a: Human $a knows $b } return { $a.name, $b.name } }", json!({})).await.unwrap();
        assert_eq!(knows.len(), 1, "{knows:?}");
        assert!(knows[0].to_string().contains("ada") && knows[0].to_string().contains("alan"), "{knows:?}");
        // The old name is gone from the head...
        assert!(read(&g, "query q() { match { $p: Person } return { $p.name } }", json!({})).await.is_err());
        // ...and reads at the commit before use the schema of that commit.
        let old = g.bound_at(Some(&At::Commit(c0.clone()))).await.unwrap();
        let plan0 = query::compile(old.schema(), "query q() { match { $p: Person } return { $p.name, $p.age } order { $p.name } }").unwrap().remove(0);
        let rows0 = query::run_read_at(&old, &plan0, &json!({}), query::limits::Deadline::none(), Some(&At::Commit(c0.clone())))
            .await
            .unwrap()
            .json_rows()
            .collect::<Vec<Json>>();
        assert_eq!(rows0.len(), 3);
        assert_eq!(rows0[0], json!({"p.name":"ada","p.age":36}));
        let at0 = crate::branches::lines_at(&g, Some(&At::Commit(c0))).await;
        assert_eq!(at0, before);
        // A fresh open reads the new schema.
        let again = Graph::open(&_t.uri(), &session()).await.unwrap();
        assert!(again.schema().node("Human").is_some() && again.schema().node("Person").is_none());
        // Writes go on under the new schema.
        let (gw, _) = g.current().await.unwrap();
        let add = query::compile(gw.schema(), "query a($n: String) { insert Human { name: $n, nick: \"x\" } }").unwrap().remove(0);
        query::run_mutation(&gw, &add, &json!({"n": "linus"})).await.unwrap();
        assert_eq!(read(&g, "query q() { match { $p: Human } return { count($p) as n } }", json!({})).await.unwrap(), vec![json!({"n": 4})]);
    });
}

#[test]
fn data_loss_needs_allowing_and_constraints_are_checked_against_stored_rows() {
    rt().block_on(async {
        let (_t, g) = seeded().await;
        let head = g.snapshot().await.unwrap().commit.id;
        // Dropping a property loses data.
        let drop_email = social(|s| s.replace("    email: String? @unique\n", ""));
        let p = evolve::plan(&g, &drop_email, &opts()).await.unwrap();
        assert!(!p.ok && p.loses_data);
        assert!(p.lints.iter().any(|l| l.code == "OG-LINT-001" && l.target == "Person.email"), "{:?}", p.lints);
        let e = evolve::apply(&g, &drop_email, &opts()).await.unwrap_err();
        assert_eq!(e.code(), "OG-LINT-001");
        assert!(matches!(e, Error::SchemaChangeRefused { .. }));
        assert_eq!(g.snapshot().await.unwrap().commit.id, head, "a refused change writes nothing");
        // A new constraint the rows break: refused with their ids.
        let tight = social(|s| s.replace("@range(age, 0..150)", "@range(age, 0..40)"));
        let e = evolve::apply(&g, &tight, &opts()).await.unwrap_err();
        assert_eq!(e.code(), "OG-LINT-002");
        let msg = e.to_string();
        assert!(msg.contains("alan") && msg.contains("grace") && !msg.contains("ada"), "{msg}");
        // Required without values: refused, with the ids of the null rows.
        let required = social(|s| s.replace("email: String? @unique", "email: String @unique"));
        let e = evolve::apply(&g, &required, &opts()).await.unwrap_err();
        assert_eq!(e.code(), "OG-LINT-002");
        assert!(e.to_string().contains("alan"), "{e}");
        // A new required property without a default: unsupported.
        let e = evolve::apply(&g, &social(|s| s.replace("age: I32?", "age: I32?\n    score: I64")), &opts()).await.unwrap_err();
        assert_eq!(e.code(), "OG-LINT-003");
        // With a default: every stored row gets it (a rewrite).
        let with_default = social(|s| s.replace("age: I32?", "age: I32?\n    score: I64 @default(7)"));
        let p = evolve::plan(&g, &with_default, &opts()).await.unwrap();
        assert!(p.ok && p.rewrites && codes(&p).contains(&"OG-EVOLVE-005"), "{p:?}");
        evolve::apply(&g, &with_default, &opts()).await.unwrap();
        let rows = read(&g, "query q() { match { $p: Person } return { $p.name, $p.score } order { $p.name } }", json!({})).await.unwrap();
        assert_eq!(rows, vec![json!({"p.name":"ada","p.score":7}), json!({"p.name":"alan","p.score":7}), json!({"p.name":"grace","p.score":7})]);
        // Allowed: the drop applies, the values are gone from the head.
        let dropped = with_default.replace("    email: String? @unique\n", "");
        let o = EvolveOptions { allow_data_loss: true, ..opts() };
        evolve::apply(&g, &dropped, &o).await.unwrap();
        assert!(read(&g, "query q() { match { $p: Person } return { $p.email } }", json!({})).await.is_err());
        assert_eq!(row_counts(&_t.uri()).await.get("Person"), Some(&3));
    });
}

#[test]
fn widening_rewrites_values_and_types_are_added_and_dropped() {
    rt().block_on(async {
        let (t, g) = seeded().await;
        let wide = social(|s| s.replace("age: I32?", "age: I64?").replace("node Company", "node Tag { label: String @key }\nnode Company"));
        let p = evolve::plan(&g, &wide, &opts()).await.unwrap();
        assert!(p.ok && codes(&p).contains(&"OG-EVOLVE-008") && codes(&p).contains(&"OG-EVOLVE-001"), "{p:?}");
        evolve::apply(&g, &wide, &opts()).await.unwrap();
        let (gw, _) = g.current().await.unwrap();
        assert_eq!(gw.schema().node("Person").unwrap().property("age").unwrap().ty, omnigraph::schema::PropType::I64);
        let big = query::compile(gw.schema(), "query a($n: String) { insert Person { name: $n, age: 140 } }").unwrap().remove(0);
        query::run_mutation(&gw, &big, &json!({"n": "old"})).await.unwrap();
        let tag = query::compile(gw.schema(), "query a($n: String) { insert Tag { label: $n } }").unwrap().remove(0);
        query::run_mutation(&gw, &tag, &json!({"n": "rust"})).await.unwrap();
        assert_eq!(
            read(&g, "query q() { match { $p: Person } return { sum($p.age) as s } }", json!({})).await.unwrap(),
            vec![json!({"s": 36 + 41 + 45 + 140})]
        );
        // Dropping the type needs allowing; then it is gone, and adding it
        // again starts empty (a new dataset).
        let without = SOCIAL.replace("age: I32?", "age: I64?");
        assert_eq!(evolve::apply(&g, &without, &opts()).await.unwrap_err().code(), "OG-LINT-001");
        evolve::apply(&g, &without, &EvolveOptions { allow_data_loss: true, ..opts() }).await.unwrap();
        assert!(!row_counts(&t.uri()).await.contains_key("Tag"));
        evolve::apply(&g, &wide, &opts()).await.unwrap();
        assert_eq!(row_counts(&t.uri()).await.get("Tag"), Some(&0));
        // Narrowing back loses data: refused without allowing.
        assert_eq!(
            evolve::apply(&g, &SOCIAL.replace("node Company", "node Tag { label: String @key }\nnode Company"), &opts()).await.unwrap_err().code(),
            "OG-LINT-001"
        );
    });
}

#[test]
fn a_query_compiled_before_a_schema_change_is_refused_and_queries_are_rechecked_by_plan() {
    rt().block_on(async {
        let (_t, g) = seeded().await;
        let q = "query q() { match { $p: Person } return { $p.age } }";
        let stale = query::compile(g.schema(), q).unwrap().remove(0);
        let renamed = social(|s| s.replace("age: I32?", "years: I32? @rename_from(\"age\")").replace("@range(age,", "@range(years,"));
        let o = EvolveOptions { queries: vec![("ages.gq".into(), q.into())], ..opts() };
        let p = evolve::plan(&g, &renamed, &o).await.unwrap();
        assert!(!p.ok && p.lints.iter().any(|l| l.code == "OG-LINT-004" && l.target == "ages.gq"), "{:?}", p.lints);
        evolve::apply(&g, &renamed, &opts()).await.unwrap();
        let e = query::run_read(&g, &stale, &json!({})).await.unwrap_err();
        assert_eq!(e.code(), "OG-HISTORY-004");
        // Applying the same schema again changes nothing.
        let again = evolve::apply(&g, &renamed, &opts()).await.unwrap();
        assert!(again.commit.is_none() && again.steps.is_empty(), "{again:?}");
    });
}

/// An input that gives nothing until `go` says so: a load that took its
/// snapshot and waits for its rows.
struct Gate {
    /// Told when the loader first asks for input (it has read the head).
    asked: std::sync::mpsc::Sender<()>,
    go: std::sync::mpsc::Receiver<()>,
    data: std::io::Cursor<Vec<u8>>,
    opened: bool,
}

impl std::io::Read for Gate {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        std::io::BufRead::fill_buf(self)?;
        std::io::Read::read(&mut self.data, buf)
    }
}

impl std::io::BufRead for Gate {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        if !self.opened {
            let _ = self.asked.send(());
            let _ = self.go.recv();
            self.opened = true;
        }
        self.data.fill_buf()
    }
    fn consume(&mut self, n: usize) {
        self.data.consume(n)
    }
}

#[test]
fn a_write_that_raced_a_schema_change_lands_before_it_or_fails_never_in_between() {
    rt().block_on(async {
        let (t, g) = seeded().await;
        let other = Graph::open_for_write(&t.uri(), &session()).await.unwrap();
        let (go, wait) = std::sync::mpsc::channel();
        let (asked, first_read) = std::sync::mpsc::channel();
        let input =
            Gate { asked, go: wait, data: std::io::Cursor::new(b"{\"type\":\"Person\",\"data\":{\"name\":\"late\",\"age\":120}}\n".to_vec()), opened: false };
        let g2 = g.clone();
        let load =
            tokio::spawn(
                async move { omnigraph::load::load(&g2, input, &omnigraph::load::LoadOptions::new(LoadMode::Append, "late.jsonl"), &mut |_| {}).await },
            );
        // The load has read the head (old schema) and waits for its input.
        tokio::task::spawn_blocking(move || first_read.recv().unwrap()).await.unwrap();
        // A tighter range the stored rows keep (a metadata-only change: the
        // Person table does not move), which the late row breaks.
        let tighter = social(|s| s.replace("@range(age, 0..150)", "@range(age, 0..100)"));
        let applied = evolve::apply(&other, &tighter, &opts()).await.unwrap();
        assert!(!applied.rewrites);
        go.send(()).unwrap();
        let e = load.await.unwrap().unwrap_err();
        assert_eq!(e.code(), "OG-PUBLISH-001", "{e}");
        assert!(e.to_string().contains("__schema"), "the schema moved under it: {e}");
        // Nothing of it: no row outside the new range.
        let rows = read(&g, "query q() { match { $p: Person } return { $p.name } order { $p.name } }", json!({})).await.unwrap();
        assert_eq!(rows.len(), 3, "{rows:?}");
        // Run again (as the loader's retry does), it is checked against the
        // new schema, and refused by line.
        let e = load_into(&g, LoadMode::Append, "{\"type\":\"Person\",\"data\":{\"name\":\"late\",\"age\":120}}\n").await.unwrap_err();
        assert_eq!(e.code(), "OG-LOAD-001", "{e}");
        assert!(e.to_string().contains("OG-LOAD-008"), "{e}");
    });
}

/// The names of the indexes of type `name`'s table at the head.
async fn index_names(g: &Graph, name: &str) -> Vec<String> {
    use lance::index::DatasetIndexExt;
    let (g, snap) = g.current().await.unwrap();
    let t = g.type_named(name).unwrap().clone();
    let ds = g.open_table(&snap, &t).await.unwrap();
    let mut names: Vec<String> = ds.load_indices().await.unwrap().iter().map(|i| i.name.clone()).collect();
    names.sort();
    names
}

#[test]
fn indexes_follow_the_schema_and_defaults_are_checked_and_filled() {
    rt().block_on(async {
        let (_t, g) = seeded().await;
        assert!(!index_names(&g, "Person").await.contains(&"og_age_idx".to_string()));
        let indexed = social(|s| s.replace("age: I32?", "age: I32? @index"));
        let p = evolve::plan(&g, &indexed, &opts()).await.unwrap();
        assert_eq!(codes(&p), ["OG-EVOLVE-014"], "{p:?}");
        evolve::apply(&g, &indexed, &opts()).await.unwrap();
        assert!(index_names(&g, "Person").await.contains(&"og_age_idx".to_string()));
        let p = evolve::plan(&g, SOCIAL, &opts()).await.unwrap();
        assert_eq!(codes(&p), ["OG-EVOLVE-015"], "{p:?}");
        evolve::apply(&g, SOCIAL, &opts()).await.unwrap();
        assert!(!index_names(&g, "Person").await.contains(&"og_age_idx".to_string()));
        // A default that is not a value of the type: a lint, nothing written.
        let bad = social(|s| s.replace("age: I32?", "age: I32?\n    level: I32 @default(\"high\")"));
        let e = evolve::apply(&g, &bad, &opts()).await.unwrap_err();
        assert_eq!(e.code(), "OG-LINT-003", "{e}");
        assert!(e.to_string().contains("Person.level"), "{e}");
        // A default on a nullable property fills the stored rows too.
        let filled = social(|s| s.replace("age: I32?", "age: I32?\n    level: String? @default(\"new\")"));
        evolve::apply(&g, &filled, &opts()).await.unwrap();
        let rows = read(&g, "query q() { match { $p: Person } return { $p.level } }", json!({})).await.unwrap();
        assert_eq!(rows, vec![json!({"p.level": "new"}); 3]);
        // A rewrite keeps the indexes (rebuilt in a commit of their own).
        assert!(index_names(&g, "Person").await.contains(&"og_name_idx".to_string()), "{:?}", index_names(&g, "Person").await);
    });
}

#[test]
fn branches_have_their_own_schema_and_merge_once_both_have_the_same() {
    rt().block_on(async {
        use omnigraph::graph::{WriteOptions, branches};
        use omnigraph::merge::{self, MergeOptions};
        let (_t, g) = seeded().await;
        branches::create(&g, "f", None, &WriteOptions::default()).await.unwrap();
        let f = g.on_branch("f").await.unwrap();
        let s2 = social(|s| {
            s.replace("age: I32?", "years: I64? @rename_from(\"age\")\n    nick: String?")
                .replace("@range(age,", "@range(years,")
                .replace("node Company", "node Tag { label: String @key }\nnode Company")
        });
        evolve::apply(&f, &s2, &opts()).await.unwrap();
        // Each branch reads and writes with its own schema.
        let run = |g: Graph, q: &'static str| async move {
            let (g, _) = g.current().await.unwrap();
            let plan = query::compile(g.schema(), q).unwrap().remove(0);
            query::run_mutation(&g, &plan, &json!({})).await.unwrap();
        };
        run(f.clone(), "query q() { update Person set { years: 50, nick: \"countess\" } where name = \"ada\" }").await;
        run(f.clone(), "query q() { insert Person { name: \"linus\", years: 30 } }").await;
        run(f.clone(), "query q() { insert Tag { label: \"rust\" } }").await;
        run(g.clone(), "query q() { update Person set { age: 42 } where name = \"alan\" }").await;
        assert!(read(&g, "query q() { match { $p: Person } return { $p.years } }", json!({})).await.is_err(), "main keeps its schema");
        // Different schemas: refused, nothing written.
        let head = g.snapshot().await.unwrap().commit.id;
        let e = merge::merge(&g, "f", &MergeOptions::default(), &WriteOptions::default()).await.unwrap_err();
        assert_eq!(e.code(), "OG-MERGE-003", "{e}");
        assert_eq!(g.snapshot().await.unwrap().commit.id, head);
        // Main takes the same schema (its own Tag table), then changes on it.
        evolve::apply(&g, &s2, &opts()).await.unwrap();
        run(g.clone(), "query q() { insert Tag { label: \"go\" } }").await;
        let r = merge::merge(&g, "f", &MergeOptions::default(), &WriteOptions::default()).await.unwrap();
        assert_eq!(r.outcome, "merged", "{r:?}");
        let rows = read(&g, "query q() { match { $p: Person } return { $p.name, $p.years, $p.nick } order { $p.name } }", json!({})).await.unwrap();
        assert_eq!(
            rows,
            vec![
                json!({"p.name": "ada", "p.years": 50, "p.nick": "countess"}),
                json!({"p.name": "alan", "p.years": 42, "p.nick": null}),
                json!({"p.name": "grace", "p.years": 45, "p.nick": null}),
                json!({"p.name": "linus", "p.years": 30, "p.nick": null}),
            ]
        );
        let tags = read(&g, "query q() { match { $t: Tag } return { $t.label } order { $t.label } }", json!({})).await.unwrap();
        assert_eq!(tags, vec![json!({"t.label": "go"}), json!({"t.label": "rust"})]);
        // A conflict across the change is still found, by entity.
        branches::create(&g, "h", None, &WriteOptions::default()).await.unwrap();
        let h = g.on_branch("h").await.unwrap();
        run(h.clone(), "query q() { update Person set { years: 1 } where name = \"grace\" }").await;
        run(g.clone(), "query q() { update Person set { years: 2 } where name = \"grace\" }").await;
        let e = merge::merge(&g, "h", &MergeOptions::default(), &WriteOptions::default()).await.unwrap_err();
        assert_eq!(e.code(), "OG-MERGE-001", "{e}");
    });
}

#[test]
fn narrowing_keeps_what_fits_and_refuses_a_required_value_that_does_not() {
    rt().block_on(async {
        let schema = "node T { k: String @key  n: I64 }\nnode E { k: String @key  m: I32? }\n";
        let t = new_graph(schema).await;
        let g = Graph::open_for_write(&t.uri(), &session()).await.unwrap();
        load_into(&g, LoadMode::Append, "{\"type\":\"T\",\"data\":{\"k\":\"small\",\"n\":1}}\n{\"type\":\"T\",\"data\":{\"k\":\"big\",\"n\":5000000000}}\n")
            .await
            .unwrap();
        let allow = EvolveOptions { allow_data_loss: true, ..opts() };
        // Required: the value that does not fit refuses the change, by id.
        let required = schema.replace("n: I64", "n: I32");
        let p = evolve::plan(&g, &required, &opts()).await.unwrap();
        assert!(p.loses_data && codes(&p).contains(&"OG-EVOLVE-009"), "{p:?}");
        let e = evolve::apply(&g, &required, &allow).await.unwrap_err();
        assert_eq!(e.code(), "OG-LINT-002", "{e}");
        assert!(e.to_string().contains("big") && !e.to_string().contains("small"), "{e}");
        // Nullable: it becomes null, the rest is kept; an empty type is
        // rewritten too.
        let nullable = schema.replace("n: I64", "n: I32?").replace("m: I32?", "m: I64?");
        evolve::apply(&g, &nullable, &allow).await.unwrap();
        let rows = read(&g, "query q() { match { $t: T } return { $t.k, $t.n } order { $t.k } }", json!({})).await.unwrap();
        assert_eq!(rows, vec![json!({"t.k": "big", "t.n": null}), json!({"t.k": "small", "t.n": 1})]);
        assert_eq!(row_counts(&t.uri()).await.get("E"), Some(&0));
        let (gw, _) = g.current().await.unwrap();
        assert_eq!(gw.schema().node("E").unwrap().property("m").unwrap().ty, omnigraph::schema::PropType::I64);
    });
}

#[test]
fn a_key_property_can_be_renamed_but_not_changed() {
    rt().block_on(async {
        let (_t, g) = seeded().await;
        let renamed = social(|s| s.replace("node Company { name: String @key }", "node Company { title: String @key @rename_from(\"name\") }"));
        let p = evolve::plan(&g, &renamed, &opts()).await.unwrap();
        assert!(p.ok, "{p:?}");
        evolve::apply(&g, &renamed, &opts()).await.unwrap();
        let rows = read(&g, "query q() { match { $p: Person $p worksAt $c } return { $p.name, $c.title } }", json!({})).await.unwrap();
        assert_eq!(rows, vec![json!({"p.name": "ada", "c.title": "acme"})]);
        let (gw, _) = g.current().await.unwrap();
        let join = query::compile(gw.schema(), "query j($p: String, $c: String) { insert WorksAt { from: $p, to: $c } }").unwrap().remove(0);
        query::run_mutation(&gw, &join, &json!({"p": "alan", "c": "acme"})).await.unwrap();
        // Another key: refused, ids are built from it.
        let other = social(|s| s.replace("node Company { name: String @key }", "node Company { name: String  code: String @key @default(\"x\") }"));
        let e = evolve::apply(&g, &other, &opts()).await.unwrap_err();
        assert_eq!(e.code(), "OG-LINT-003", "{e}");
    });
}

#[test]
fn a_key_is_added_where_every_stored_id_already_is_its_value() {
    rt().block_on(async {
        let schema = "node Note { title: String  body: String? }\nedge Cites: Note -> Note\n";
        let t = new_graph(schema).await;
        let g = Graph::open_for_write(&t.uri(), &session()).await.unwrap();
        let rows = "{\"type\":\"Note\",\"id\":\"a\",\"data\":{\"title\":\"a\"}}\n{\"type\":\"Note\",\"id\":\"b\",\"data\":{\"title\":\"b\"}}\n{\"type\":\"Note\",\"id\":\"n-3\",\"data\":{\"title\":\"c\"}}\n{\"edge\":\"Cites\",\"from\":\"a\",\"to\":\"b\"}\n";
        load_into(&g, LoadMode::Append, rows).await.unwrap();
        let keyed = schema.replace("title: String ", "title: String @key ");
        let p = evolve::plan(&g, &keyed, &opts()).await.unwrap();
        assert!(!p.ok, "{p:?}");
        let lint = p.lints.iter().find(|l| l.code == "OG-LINT-002").expect("a lint");
        assert!(lint.message.ends_with(": n-3") && lint.target == "Note(title)", "{lint:?}");
        let (gw, _) = g.current().await.unwrap();
        let del = query::compile(gw.schema(), "query d() { delete Note where title = \"c\" }").unwrap().remove(0);
        query::run_mutation(&gw, &del, &json!({})).await.unwrap();
        evolve::apply(&g, &keyed, &opts()).await.unwrap();
        // Keyed now: an insert's id is its key, edges name nodes by it.
        let (gw, _) = g.current().await.unwrap();
        let add = query::compile(gw.schema(), "query a() { insert Note { title: \"d\" } insert Cites { from: \"d\", to: \"a\" } }").unwrap().remove(0);
        query::run_mutation(&gw, &add, &json!({})).await.unwrap();
        let cited = read(&g, "query q() { match { $n: Note { title: \"d\" } $n cites $m } return { $m.title } }", json!({})).await.unwrap();
        assert_eq!(cited, vec![json!({"m.title": "a"})]);
        let e = load_into(&g, LoadMode::Append, "{\"type\":\"Note\",\"data\":{\"title\":\"a\"}}\n").await.unwrap_err();
        assert_eq!(e.code(), "OG-LOAD-001", "the key is enforced: {e}");
    });
}
