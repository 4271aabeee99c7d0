//! The error code recovery itself defines, once.

pub use omnigraph::codes::Code;

/// Applying one item of a plan panicked; the item's `error` says how, and
/// the items after it still run.
pub const ITEM_FAILED: Code = Code { code: "OG-RECOVER-001", kind: "recovery_item_failed", status: 500, meaning: "applying a plan item failed unexpectedly" };

/// Every code above.
pub const ALL: &[Code] = &[ITEM_FAILED];
