//! Policy errors, each with a stable `OG-POLICY-NNN` code.

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("{source_name}: {message}")]
    Syntax { source_name: String, message: String },

    #[error("{source_name}: rule {rule}: {message}")]
    Rule { source_name: String, rule: usize, message: String },

    #[error("{source_name}: group `{group}`: {message}")]
    Group { source_name: String, group: String, message: String },

    #[error("{source_name}: compiled Cedar does not parse: {message}")]
    Cedar { source_name: String, message: String },

    #[error("{source_name}: case {case}: {message}")]
    Case { source_name: String, case: usize, message: String },
}

/// One policy error code: code, kind and meaning. Every policy error is a
/// fault of the policy text, answered `400` where a request carried it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Code {
    pub code: &'static str,
    pub kind: &'static str,
    pub meaning: &'static str,
}

pub const SYNTAX: Code = Code { code: "OG-POLICY-001", kind: "policy_syntax", meaning: "the policy file does not parse" };
pub const RULE_INVALID: Code = Code { code: "OG-POLICY-002", kind: "policy_rule_invalid", meaning: "a rule is invalid (its number is named)" };
pub const GROUP_INVALID: Code = Code { code: "OG-POLICY-003", kind: "policy_group_invalid", meaning: "a group is invalid" };
pub const CEDAR: Code = Code { code: "OG-POLICY-004", kind: "policy_cedar", meaning: "the compiled Cedar does not parse" };
pub const CASE_INVALID: Code = Code { code: "OG-POLICY-005", kind: "policy_case_invalid", meaning: "a test case of `policy test` is invalid" };

/// Every code above.
pub const ALL: &[Code] = &[SYNTAX, RULE_INVALID, GROUP_INVALID, CEDAR, CASE_INVALID];

impl PolicyError {
    /// This error's entry in the code table above.
    pub fn info(&self) -> Code {
        match self {
            PolicyError::Syntax { .. } => SYNTAX,
            PolicyError::Rule { .. } => RULE_INVALID,
            PolicyError::Group { .. } => GROUP_INVALID,
            PolicyError::Cedar { .. } => CEDAR,
            PolicyError::Case { .. } => CASE_INVALID,
        }
    }

    pub fn code(&self) -> &'static str {
        self.info().code
    }

    pub fn kind(&self) -> &'static str {
        self.info().kind
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({"error": self.to_string(), "code": self.code(), "kind": self.kind()})
    }
}
