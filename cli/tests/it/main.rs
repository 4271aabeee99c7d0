//! CLI tests: the `omnigraph` binary run as real processes.

mod commands;
mod common;
mod crash;
mod init_race;
mod query;
