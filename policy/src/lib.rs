//! Omnigraph access policy: a YAML file of groups, rules and protected
//! branches, compiled to Cedar and evaluated with the `cedar-policy` crate.
//!
//! Module map:
//! - [`action`]: the actions a request can need (`graph_list`, `read`, ...)
//!   and the resource each applies to.
//! - [`file`]: the YAML model (`groups`, `rules`, `protected_branches`) and
//!   its checks, with errors that name the rule and field.
//! - [`compile`]: rules to Cedar policy text.
//! - [`authorize`]: [`Policy`], the compiled set the server asks for each
//!   request, and per-graph policies attached at create time.
//! - [`cases`]: `omnigraph policy test` cases and their results.
//! - [`error`]: errors with stable `OG-POLICY-NNN` codes.
//! - [`unique`]: maps that refuse a key given twice (groups, tokens).
//!
//! docs/user/server.md documents the file format with examples.

pub mod action;
pub mod authorize;
pub mod cases;
pub mod compile;
pub mod error;
pub mod file;
pub mod unique;

pub use action::Action;
pub use authorize::{Decision, Denial, Policy, Resource};
pub use error::PolicyError;
pub use file::{MAIN_BRANCH, PolicyFile};
