//! End-to-end tests of `omnigraph-server`: real server processes on
//! loopback, real catalogs in temp dirs and on the S3 test server, HTTP from
//! a real client.

mod access;
mod auth;
mod memory;
mod common;
mod crash;
mod fuzz;
mod hostile;
mod lifecycle;
mod limits;
mod loads;
mod live;
mod openapi;
mod quarantine;
mod remote_cli;
mod s3;
#[path = "../support/tree_hash.rs"]
mod tree_hash;
#[path = "../support/policy_reference.rs"]
mod policy_reference;
