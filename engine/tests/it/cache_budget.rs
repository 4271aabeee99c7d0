//! One session for several graphs: they share its Lance session and one
//! memory budget for their query caches: entries are charged, the least
//! recently used are evicted past the limit, answers stay the same, and
//! closing a graph gives its memory back.

use omnigraph::Graph;
use omnigraph::load::{LoadMode, LoadOptions};
use omnigraph::query;
use omnigraph::{Session, SessionOptions};
use serde_json::{Value as Json, json};

use crate::common::*;

/// A ring of `n` people, each knowing the next two, with ages.
fn ring(n: usize, tag: &str) -> String {
    let mut s = String::new();
    for i in 0..n {
        s.push_str(&format!("{{\"type\":\"Person\",\"data\":{{\"name\":\"{tag}{i}\",\"age\":{}}}}}\n", i % 90));
    }
    for i in 0..n {
        for d in 1..=2 {
            s.push_str(&format!("{{\"edge\":\"Knows\",\"from\":\"{tag}{i}\",\"to\":\"{tag}{}\"}}\n", (i + d) % n));
        }
    }
    s
}

const QUERIES: [&str; 3] = [
    "query q() { match { $p: Person { age: 7 }  $p knows $f } return { $f.name, $f.age } order { $f.name } }",
    "query q() { match { $p: Person  $p knows{2,2} $f } return { count(*) as n, max($f.age) as oldest } }",
    "query q() { match { $p: Person } return { $p.name, $p.email } order { $p.name desc } limit 5 }",
];

/// Loads with the default chunk size (the shared helper forces tiny chunks).
async fn append(uri: &str, data: &str) {
    let g = Graph::open_for_write(uri, &crate::common::session()).await.unwrap();
    let opts = LoadOptions::new(LoadMode::Append, "ring.jsonl");
    omnigraph::load::load(&g, std::io::Cursor::new(data.as_bytes().to_vec()), &opts, &mut |_| {}).await.unwrap();
}

async fn answers(g: &Graph) -> Vec<Vec<Json>> {
    let mut out = Vec::new();
    for src in QUERIES {
        let plans = query::compile(g.schema(), src).unwrap();
        out.push(query::run_read(g, &plans[0], &json!({})).await.unwrap().json_rows().collect());
    }
    out
}

/// A session whose query caches may hold about `bytes` (Lance's caches get
/// their share on top), and the budget's exact limit.
fn budgeted(bytes: u64) -> (Session, u64) {
    let s = Session::new(SessionOptions { cache_bytes: Some(bytes.saturating_mul(4) / 3), ..Default::default() });
    let limit = s.cache_budget().expect("a budget").usage().limit_bytes;
    (s, limit)
}

#[test]
fn graphs_opened_through_one_session_share_its_lance_session() {
    rt().block_on(async {
        let (a, b) = (new_graph(SOCIAL).await, new_graph(SOCIAL).await);
        append(&a.uri(), &ring(10, "a")).await;
        let session = Session::default();
        let (ga, gb) = (Graph::open(&a.uri(), &session).await.unwrap(), Graph::open_for_write(&b.uri(), &session).await.unwrap());
        assert!(ga.session().same_as(&session) && gb.session().same_as(&session));
        // Every table either graph opens is a Lance dataset of that one session.
        for g in [&ga, &gb] {
            let snap = g.snapshot().await.unwrap();
            for t in g.schema().types() {
                let ds = g.open_table(&snap, t).await.unwrap();
                assert!(std::sync::Arc::ptr_eq(&ds.session(), session.lance()), "{} of {}", t.name, g.root().uri());
            }
        }
        // ...and a query's reads too: Lance's metadata cache fills once.
        answers(&ga).await;
        let other = Session::default();
        let gc = Graph::open(&a.uri(), &other).await.unwrap();
        let before = session.lance().size_bytes();
        answers(&gc).await;
        assert_eq!(session.lance().size_bytes(), before, "a graph of another session fills that session's caches, not this one's");
        assert!(other.lance().size_bytes() > 0);
    });
}

#[test]
fn a_shared_budget_evicts_across_graphs_and_answers_stay_the_same() {
    rt().block_on(async {
        let (a, b) = (new_graph(SOCIAL).await, new_graph(SOCIAL).await);
        append(&a.uri(), &ring(3000, "a")).await;
        append(&b.uri(), &ring(2000, "b")).await;

        // Without limits: what both graphs' caches hold, and the answers.
        let (roomy_session, _) = budgeted(u64::MAX / 2);
        let roomy = roomy_session.cache_budget().unwrap().clone();
        let (ga, gb) = (Graph::open(&a.uri(), &roomy_session).await.unwrap(), Graph::open(&b.uri(), &roomy_session).await.unwrap());
        let (want_a, want_b) = (answers(&ga).await, answers(&gb).await);
        let full = roomy.usage().used_bytes;
        assert!(full > 100_000, "the caches should hold ids, columns and adjacency: {full} bytes");
        assert_eq!(roomy.usage().evictions, 0);
        // Asking again reads from the cache: nothing more is charged.
        assert_eq!(answers(&ga).await, want_a);
        assert_eq!(roomy.usage().used_bytes, full);
        // Closing the graphs gives the memory back.
        drop((ga, gb));
        assert_eq!(roomy.usage().used_bytes, 0);

        // Half of that, shared: the graphs take turns and evict each other.
        let (tight_session, limit) = budgeted(full / 2);
        let tight = tight_session.cache_budget().unwrap().clone();
        let (ga, gb) = (Graph::open(&a.uri(), &tight_session).await.unwrap(), Graph::open(&b.uri(), &tight_session).await.unwrap());
        for _ in 0..3 {
            assert_eq!(answers(&ga).await, want_a);
            assert!(tight.usage().used_bytes <= limit, "{:?}", tight.usage());
            assert_eq!(answers(&gb).await, want_b);
            assert!(tight.usage().used_bytes <= limit, "{:?}", tight.usage());
        }
        assert!(tight.usage().evictions > 0, "{:?}", tight.usage());
        assert!(tight.usage().used_bytes > 0, "the most recent entries stay cached");

        // A budget of nothing still answers; it caches nothing.
        let (none_session, _) = budgeted(0);
        let none = none_session.cache_budget().unwrap().clone();
        let gz = Graph::open(&a.uri(), &none_session).await.unwrap();
        assert_eq!(answers(&gz).await, want_a);
        assert_eq!(none.usage().used_bytes, 0);

        // A new version replaces the cached one and its charge.
        let before = tight.usage().used_bytes;
        append(&b.uri(), "{\"type\":\"Person\",\"data\":{\"name\":\"late\",\"age\":7}}\n").await;
        let after_load = answers(&gb).await;
        assert_ne!(after_load, want_b);
        assert!(tight.usage().used_bytes <= limit, "{:?} (before {before})", tight.usage());
        drop((ga, gb, gz));
        assert_eq!(tight.usage().used_bytes, 0);
    });
}
