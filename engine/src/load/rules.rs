//! Per-row value rules of a type, `@range` and `@check`, compiled once and
//! applied by the loader and by mutations alike.

use super::value::Cell;
use crate::schema::TypeDef;

pub struct ValueRules {
    ranges: Vec<(usize, String, Option<f64>, Option<f64>)>,
    checks: Vec<(usize, String, String, regex::Regex)>,
}

impl ValueRules {
    pub fn new(t: &TypeDef) -> ValueRules {
        let idx = |name: &str| t.properties.iter().position(|p| p.name == name).expect("compiled constraint names a property");
        ValueRules {
            ranges: t.ranges.iter().map(|r| (idx(&r.property), r.property.clone(), r.min, r.max)).collect(),
            checks: t
                .checks
                .iter()
                .map(|c| {
                    (
                        idx(&c.property),
                        c.property.clone(),
                        c.pattern.clone(),
                        crate::schema::pattern::compile(&c.pattern).expect("compiled schema checked the pattern"),
                    )
                })
                .collect(),
        }
    }

    /// Calls `report(code, message)` for each rule `cells` break; true when none.
    pub fn check(&self, t: &TypeDef, cells: &[Cell], report: &mut dyn FnMut(&'static str, String)) -> bool {
        let mut ok = true;
        for (i, name, min, max) in &self.ranges {
            let v = match &cells[*i] {
                Cell::I64(v) => *v as f64,
                Cell::U64(v) => *v as f64,
                Cell::F64(v) => *v,
                _ => continue,
            };
            if min.is_some_and(|m| v < m) || max.is_some_and(|m| v > m) {
                let lo = min.map(|m| m.to_string()).unwrap_or_default();
                let hi = max.map(|m| m.to_string()).unwrap_or_default();
                report(crate::codes::LOAD_OUT_OF_RANGE.code, format!("`{}.{name}` = {v} is outside @range({lo}..{hi})", t.name));
                ok = false;
            }
        }
        for (i, name, pattern, re) in &self.checks {
            if let Cell::Str(s) = &cells[*i]
                && !re.is_match(s)
            {
                report(crate::codes::LOAD_CHECK_FAILED.code, format!("`{}.{name}` = {s:?} does not match @check {pattern:?}", t.name));
                ok = false;
            }
        }
        ok
    }
}
