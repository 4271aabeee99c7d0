//! Engine integration tests: one binary, one module per feature.

mod branches;
mod cache_budget;
mod common;
mod embed;
#[path = "../../../tests/support/embed_server.rs"]
#[allow(dead_code)]
mod embed_server;
mod evolve;
mod export;
mod fold;
mod fuzz;
mod group_commit;
mod history;
mod hostile;
mod init;
mod layering;
mod live_views;
mod load;
mod load_input;
mod maintenance;
mod merge_model;
mod mutate;
mod patterns;
mod publish;
mod query;
mod query_model;
mod races;
mod schema;
mod search;
mod stored;
#[path = "../../../tests/support/tree_hash.rs"]
mod tree_hash;
