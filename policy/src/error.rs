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

impl PolicyError {
    pub fn code(&self) -> &'static str {
        match self {
            PolicyError::Syntax { .. } => "OG-POLICY-001",
            PolicyError::Rule { .. } => "OG-POLICY-002",
            PolicyError::Group { .. } => "OG-POLICY-003",
            PolicyError::Cedar { .. } => "OG-POLICY-004",
            PolicyError::Case { .. } => "OG-POLICY-005",
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            PolicyError::Syntax { .. } => "policy_syntax",
            PolicyError::Rule { .. } => "policy_rule_invalid",
            PolicyError::Group { .. } => "policy_group_invalid",
            PolicyError::Cedar { .. } => "policy_cedar",
            PolicyError::Case { .. } => "policy_case_invalid",
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({"error": self.to_string(), "code": self.code(), "kind": self.kind()})
    }
}
