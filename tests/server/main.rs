//! End-to-end tests of `omnigraph-server`: real server processes on
//! loopback, real catalogs in temp dirs and on the S3 test server, HTTP from
//! a real client.

mod access;
mod auth;
mod branches;
mod common;
mod crash;
#[path = "../support/embed_server.rs"]
#[allow(dead_code)]
mod embed_server;
mod fuzz;
mod history;
mod hostile;
mod lifecycle;
mod limits;
mod live;
mod loads;
mod maintenance;
mod memory;
mod openapi;
#[path = "../support/policy_reference.rs"]
mod policy_reference;
mod quarantine;
mod races;
mod remote_cli;
mod s3;
mod schema;
mod search;
mod stored;
#[path = "../support/tree_hash.rs"]
mod tree_hash;
mod writes;
