//! Catalog tests, in process, against a local directory and against the
//! S3-compatible server that `scripts/test.sh` starts. Cross-process races,
//! crashes and fencing live in the CLI's tests (real processes).

mod common;
mod lifecycle;
mod transitions;
