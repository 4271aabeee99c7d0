//! Engine integration tests: one binary, one module per feature.

mod common;
mod export;
mod init;
mod load;
mod publish;
mod schema;
