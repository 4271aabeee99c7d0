//! Branch commands as processes, and crashes in every step of a branch
//! create, a branch delete and a merge: afterwards the merge's commit is
//! there in full or not at all, and both branches read as before.

use serde_json::Value as Json;

use crate::common::*;

fn json(s: &str) -> Json {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

fn export(w: &Work, branch: &str) -> Vec<String> {
    export_sorted(w, &["--branch", branch])
}

fn head(w: &Work, branch: &str) -> String {
    let page = json(&w.ok(&["commit", "list", "--store", &w.graph(), "--branch", branch, "--limit", "1", "--json"]));
    page["commits"][0]["id"].as_str().unwrap().to_string()
}

/// A graph with a branch `f` that changed some rows, and a main that
/// changed others: a merge that writes three tables.
fn diverged(w: &Work) {
    let g = w.graph();
    w.init();
    w.ok(&["load", "--store", &g, "--data", "data.jsonl"]);
    w.ok(&["branch", "create", "f", "--store", &g]);
    for q in [
        "query q() { insert Person { name: \"cy\", age: 5 } }",
        "query q() { insert Company { name: \"beta\" } }",
        "query q() { insert Knows { from: \"cy\", to: \"ada\" } }",
        "query q() { update Person set { age: 37 } where name = \"ada\" }",
    ] {
        w.ok(&["mutate", "--store", &g, "--branch", "f", "-e", q]);
    }
    w.ok(&["mutate", "--store", &g, "-e", "query q() { update Person set { age: 9 } where name = \"bob\" }"]);
}

#[test]
fn a_crash_in_any_step_of_a_merge_leaves_the_merge_whole_or_absent() {
    for fp in ["merge.before_write", "write.after_sidecar", "write.after_first_table_commit", "write.before_publish", "write.after_publish"] {
        let w = Work::new();
        let g = w.graph();
        diverged(&w);
        let (main_before, f_before, main_head) = (export(&w, "main"), export(&w, "f"), head(&w, "main"));
        // What the merge makes, on a copy made by a dry run's numbers.
        let dry = json(&w.ok(&["branch", "merge", "f", "--store", &g, "--dry-run", "--json"]));
        assert_eq!(dry["outcome"], "merged", "{dry}");
        let o = w.run_with_failpoint(fp, &["branch", "merge", "f", "--store", &g]);
        assert!(killed_by_abort(&o), "{fp}: the failpoint must abort: {}", stderr(&o));
        w.ok(&["recover", "--store", &g, "--apply"]);
        assert_eq!(export(&w, "f"), f_before, "{fp}: the source reads as before");
        let now = head(&w, "main");
        let c = json(&w.ok(&["commit", "show", &now, "--store", &g, "--json"]));
        // A rolled back write may leave a `recover` commit; never a partial merge.
        let landed = c["kind"] == "merge";
        assert!(landed || now == main_head || c["kind"] == "recover", "{fp}: {c}");
        if landed {
            assert_eq!(c["parents"].as_array().map(Vec::len), Some(2), "{fp}: {c}");
            assert_eq!(export(&w, "main").len(), main_before.len() + 3, "{fp}: the whole merge");
        } else {
            assert_eq!(export(&w, "main"), main_before, "{fp}: nothing of the merge");
        }
        // Once every table committed, recovery rolls the merge forward;
        // before that, back.
        assert_eq!(landed, matches!(fp, "write.before_publish" | "write.after_publish"), "{fp}");
        // The merge then runs (or is up to date), and main holds both sides.
        let r = json(&w.ok(&["branch", "merge", "f", "--store", &g, "--json"]));
        assert_eq!(r["outcome"], if landed { "up_to_date" } else { "merged" }, "{fp}: {r}");
        let main = export(&w, "main");
        assert!(main.iter().any(|l| l.contains("\"cy\"")) && main.iter().any(|l| l.contains("\"age\":9")), "{fp}: {main:#?}");
    }
}

#[test]
fn a_crash_while_creating_or_deleting_a_branch_is_repaired_by_deleting_or_creating_again() {
    for fp in ["branch.after_manifest_branch", "branch.after_table_branches"] {
        let w = Work::new();
        let g = w.graph();
        w.init();
        w.ok(&["load", "--store", &g, "--data", "data.jsonl"]);
        let main_before = export(&w, "main");
        let o = w.run_with_failpoint(fp, &["branch", "create", "f", "--store", &g]);
        assert!(killed_by_abort(&o), "{fp}: {}", stderr(&o));
        // Half made: listed, refused for reads and writes, and deletable.
        let list = w.ok(&["branch", "list", "--store", &g]);
        assert!(list.contains("\nf "), "{fp}: {list}");
        let o = w.run(&["query", "--store", &g, "--branch", "f", "-e", "query q() { match { $p: Person } return { $p.name } }"]);
        assert!(stderr(&o).contains("OG-BRANCH-004") && stderr(&o).contains("delete it"), "{fp}: {}", stderr(&o));
        let o = w.run(&["branch", "create", "f", "--store", &g]);
        assert!(stderr(&o).contains("OG-BRANCH-003"), "{fp}: {}", stderr(&o));
        w.ok(&["branch", "delete", "f", "--store", &g]);
        w.ok(&["branch", "create", "f", "--store", &g]);
        w.ok(&["mutate", "--store", &g, "--branch", "f", "-e", "query q() { insert Person { name: \"zed\" } }"]);
        assert_eq!(export(&w, "main"), main_before, "{fp}: main never moved");
        assert_eq!(export(&w, "f").len(), main_before.len() + 1, "{fp}");
    }
    // A delete that stopped after the manifest branch went: the branch is
    // gone; its name can be used again, and the new branch reads afresh.
    let w = Work::new();
    let g = w.graph();
    w.init();
    w.ok(&["load", "--store", &g, "--data", "data.jsonl"]);
    w.ok(&["branch", "create", "f", "--store", &g]);
    w.ok(&["mutate", "--store", &g, "--branch", "f", "-e", "query q() { insert Person { name: \"old\" } }"]);
    let o = w.run_with_failpoint("branch.after_manifest_delete", &["branch", "delete", "f", "--store", &g]);
    assert!(killed_by_abort(&o), "{}", stderr(&o));
    assert!(!w.ok(&["branch", "list", "--store", &g]).contains("\nf "));
    w.ok(&["branch", "create", "f", "--store", &g]);
    assert_eq!(export(&w, "f"), export(&w, "main"), "nothing of the deleted branch is left");
    w.ok(&["mutate", "--store", &g, "--branch", "f", "-e", "query q() { insert Person { name: \"new\" } }"]);
    assert!(export(&w, "f").iter().any(|l| l.contains("\"new\"")));

    // A delete that stopped inside Lance's, after the branch's record went
    // and before its files did: a create of the name says what to do, and
    // the delete it names removes the files.
    std::fs::remove_file(w.path("graph/__manifest/_refs/branches/f.json")).unwrap();
    let o = w.run(&["branch", "create", "f", "--store", &g]);
    assert!(stderr(&o).contains("OG-BRANCH-004") && stderr(&o).contains("branch delete f"), "{}", stderr(&o));
    let o = w.run(&["branch", "delete", "nope", "--store", &g]);
    assert!(stderr(&o).contains("OG-BRANCH-002"), "{}", stderr(&o));
    w.ok(&["branch", "delete", "f", "--store", &g]);
    w.ok(&["branch", "create", "f", "--store", &g]);
    assert_eq!(export(&w, "f"), export(&w, "main"));
}

#[test]
fn branch_commands_report_in_text_and_json() {
    let w = Work::new();
    let g = w.graph();
    w.init();
    w.ok(&["load", "--store", &g, "--data", "data.jsonl"]);
    let made = json(&w.ok(&["branch", "create", "f", "--store", &g, "--as", "ann", "--json"]));
    assert_eq!((made["name"].as_str(), made["parent"].as_str(), made["head"]["actor"].as_str()), (Some("f"), Some("main"), Some("ann")), "{made}");
    let text = w.ok(&["branch", "create", "g2", "--store", &g, "--from", "f"]);
    assert!(text.starts_with("created branch g2 from f at "), "{text}");
    let list = w.ok(&["branch", "list", "--store", &g]);
    let names: Vec<&str> = list.lines().skip(1).map(|l| l.split_whitespace().next().unwrap()).collect();
    assert_eq!(names, ["main", "f", "g2"], "{list}");
    // `--branch` means nothing to branch commands.
    let o = w.run(&["branch", "list", "--store", &g, "--branch", "f"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("OG-ARG-001"), "{}", stderr(&o));
    let up = w.ok(&["branch", "merge", "f", "--store", &g]);
    assert!(up.contains("up to date"), "{up}");
    w.ok(&["mutate", "--store", &g, "--branch", "g2", "-e", "query q() { insert Person { name: \"x\" } }"]);
    let ff = w.ok(&["branch", "merge", "g2", "--into", "f", "--store", &g, "--delete-source"]);
    assert!(ff.starts_with("merged g2 into f (fast-forward); commit ") && ff.contains("deleted branch g2"), "{ff}");
    assert!(ff.contains("Person") && ff.contains("+1 ~0 -0"), "{ff}");
}
