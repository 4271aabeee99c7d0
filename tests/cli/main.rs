//! CLI tests: the `omnigraph` binary run as real processes.

mod branches;
mod catalog;
mod catalog_common;
mod catalog_crash;
mod catalog_pause;
mod catalog_race;
mod commands;
mod common;
mod crash;
mod docs;
mod durability;
#[path = "../support/embed_server.rs"]
#[allow(dead_code)]
mod embed_server;
mod history;
mod init_race;
mod maintenance;
mod policy;
mod query;
mod schema;
mod stored;
#[path = "../support/tree_hash.rs"]
mod tree_hash;
