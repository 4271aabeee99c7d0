//! One JSONL line: a node (`{"type", "id"?, "data"}`) or an edge
//! (`{"edge", "id"?, "from", "to", "data"}`).

use serde::Deserialize;
use serde_json::{Map, Value};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLine {
    #[serde(rename = "type")]
    ty: Option<String>,
    edge: Option<String>,
    id: Option<Value>,
    from: Option<Value>,
    to: Option<Value>,
    #[serde(default)]
    data: Option<Map<String, Value>>,
}

pub enum Record {
    Node { ty: String, id: Option<String>, data: Map<String, Value> },
    Edge { ty: String, id: Option<String>, from: Value, to: Value, data: Map<String, Value> },
}

/// Parses a non-empty line. Errors are `(code, message)`.
pub fn parse(line: &str) -> Result<Record, (&'static str, String)> {
    let raw: RawLine = serde_json::from_str(line).map_err(|e| ("OG-LOAD-002", format!("not a valid record: {e}")))?;
    let id = match raw.id {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if !s.is_empty() => Some(s),
        Some(_) => return Err(("OG-LOAD-002", "`id` must be a non-empty string".into())),
    };
    let data = raw.data.unwrap_or_default();
    match (raw.ty, raw.edge) {
        (Some(ty), None) => {
            if raw.from.is_some() || raw.to.is_some() {
                return Err(("OG-LOAD-002", "a node record has no `from`/`to`; use `edge` for edges".into()));
            }
            Ok(Record::Node { ty, id, data })
        }
        (None, Some(ty)) => {
            let (Some(from), Some(to)) = (raw.from, raw.to) else {
                return Err(("OG-LOAD-002", format!("edge `{ty}` needs both `from` and `to`")));
            };
            Ok(Record::Edge { ty, id, from, to, data })
        }
        (Some(_), Some(_)) => Err(("OG-LOAD-002", "a record has either `type` (node) or `edge`, not both".into())),
        (None, None) => Err(("OG-LOAD-002", "a record needs `type` (node) or `edge`".into())),
    }
}
