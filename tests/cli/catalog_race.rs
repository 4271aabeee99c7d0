//! Races between real OS processes, on local disk and on the S3-compatible
//! server: same-id creates, distinct-id creates, and create/delete storms.

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::catalog_common::{assert_consistent, catalog_uri};
use crate::common::{Work, bin};

fn spawn(w: &Work, cat: &str, args: &[&str]) -> Child {
    let mut full = vec!["graphs"];
    full.extend_from_slice(&args[..1]);
    full.extend_from_slice(&["--catalog", cat, "--json"]);
    full.extend_from_slice(&args[1..]);
    bin().current_dir(w.dir.path()).args(&full).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()
}

/// Starts `n` processes that wait at a start line (a file appearing), then
/// releases them together, so their critical sections overlap.
fn spawn_together(w: &Work, cat: &str, n: usize, args: impl Fn(usize) -> Vec<String>) -> Vec<Child> {
    let go = w.path("go");
    let _ = std::fs::remove_file(&go);
    let kids: Vec<Child> = (0..n)
        .map(|i| {
            let mut cmd = format!("while [ ! -e '{}' ]; do sleep 0.002; done; exec '{}' graphs", go.display(), env!("CARGO_BIN_EXE_omnigraph"));
            let a = args(i);
            cmd.push_str(&format!(" {} --catalog '{cat}' --json", a[0]));
            for x in &a[1..] {
                cmd.push_str(&format!(" '{x}'"));
            }
            std::process::Command::new("sh")
                .arg("-c")
                .arg(cmd)
                .current_dir(w.dir.path())
                .env_remove("OMNIGRAPH_FAILPOINT")
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    std::fs::write(&go, "").unwrap();
    kids
}

/// (exit code, error code if any)
fn finish(c: Child) -> (i32, Option<String>) {
    let out = c.wait_with_output().unwrap();
    let code = out.status.code().unwrap_or(-1);
    let v: Option<serde_json::Value> = serde_json::from_slice(&out.stdout).ok();
    let err = if code == 0 { None } else { v.and_then(|v| v["code"].as_str().map(str::to_string)) };
    assert!(code == 0 || err.is_some(), "unexpected failure: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (code, err)
}

fn same_id(s3: bool) {
    let w = Work::new();
    let Some(cat) = catalog_uri(&w, s3) else { return };
    let kids = spawn_together(&w, &cat, 8, |_| ["create", "--id", "same", "--schema", "schema.pg"].map(String::from).to_vec());
    let results: Vec<_> = kids.into_iter().map(finish).collect();
    let wins = results.iter().filter(|r| r.0 == 0).count();
    assert_eq!(wins, 1, "{results:?}");
    for (_, err) in results.iter().filter(|r| r.0 != 0) {
        assert!(matches!(err.as_deref(), Some("OG-CATALOG-002") | Some("OG-CATALOG-003")), "{results:?}");
    }
    assert_consistent(&w, &cat);
}

fn distinct_ids(s3: bool) {
    let w = Work::new();
    let Some(cat) = catalog_uri(&w, s3) else { return };
    let kids = spawn_together(&w, &cat, 8, |i| vec!["create".into(), "--id".into(), format!("g{i}"), "--schema".into(), "schema.pg".into()]);
    let results: Vec<_> = kids.into_iter().map(finish).collect();
    assert!(results.iter().all(|r| r.0 == 0), "{results:?}");
    assert_consistent(&w, &cat);
}

fn storm(s3: bool, secs: u64) {
    let w = Work::new();
    let Some(cat) = catalog_uri(&w, s3) else { return };
    // The catalog exists before the storm (a delete on no catalog is OG-CATALOG-010).
    assert_eq!(finish(spawn(&w, &cat, &["create", "--id", "seed", "--schema", "schema.pg"])).0, 0);
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut ok = 0;
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|t| {
                let (w, cat) = (&w, &cat);
                s.spawn(move || {
                    let mut n = 0usize;
                    let mut oks = 0;
                    while Instant::now() < deadline {
                        let id = format!("s{}", (t + n) % 2);
                        let args: Vec<&str> =
                            if (t + n / 2).is_multiple_of(2) { vec!["create", "--id", &id, "--schema", "schema.pg"] } else { vec!["delete", &id] };
                        let (code, err) = finish(spawn(w, cat, &args));
                        if code == 0 {
                            oks += 1;
                        } else {
                            assert!(
                                matches!(err.as_deref(), Some("OG-CATALOG-002" | "OG-CATALOG-003" | "OG-CATALOG-004" | "OG-CATALOG-005")),
                                "storm: {args:?} -> {err:?}"
                            );
                        }
                        n += 1;
                    }
                    oks
                })
            })
            .collect();
        for h in handles {
            ok += h.join().unwrap();
        }
    });
    assert!(ok > 0, "no operation succeeded in the storm");
    assert_consistent(&w, &cat);
}

#[test]
fn same_id_creates_from_eight_processes_have_one_winner() {
    same_id(false);
}

#[test]
fn distinct_id_creates_from_eight_processes_all_succeed() {
    distinct_ids(false);
}

#[test]
fn create_delete_storm_ends_consistent() {
    storm(false, 4);
}

#[test]
fn s3_same_id_creates_from_eight_processes_have_one_winner() {
    same_id(true);
}

#[test]
fn s3_distinct_id_creates_from_eight_processes_all_succeed() {
    distinct_ids(true);
}

#[test]
fn s3_create_delete_storm_ends_consistent() {
    storm(true, 4);
}
