//! `omnigraph policy validate|test`: check a policy file the way the
//! server will load it, and run allow/deny cases against it.

use omnigraph_policy::{Policy, cases};

use crate::cli::PolicyCommand;
use crate::output::{self, CliError};

pub fn run(cmd: PolicyCommand, json: bool) -> Result<i32, CliError> {
    match cmd {
        PolicyCommand::Validate { file, cedar } => {
            let policy = Policy::load(&file)?;
            if json {
                output::print_json(
                    &serde_json::json!({"ok": true, "file": file.display().to_string(), "policies": policy.policy_count(), "cedar": policy.cedar()}),
                );
            } else if cedar {
                print!("{}", policy.cedar());
            } else {
                println!("ok: {} compiles to {} Cedar polic{}", file.display(), policy.policy_count(), if policy.policy_count() == 1 { "y" } else { "ies" });
            }
            Ok(0)
        }
        PolicyCommand::Test { file, cases: cases_path } => {
            let policy = Policy::load(&file)?;
            let name = cases_path.display().to_string();
            let src = std::fs::read_to_string(&cases_path).map_err(|e| CliError::invalid_argument(format!("cannot read {name}: {e}")))?;
            let list = cases::parse(&src, &name)?;
            let results = cases::run(&policy, &list, &name)?;
            let failed = results.iter().filter(|r| !r.passed).count();
            if json {
                output::print_json(&serde_json::json!({"passed": results.len() - failed, "failed": failed, "cases": results}));
            } else {
                for r in &results {
                    let on = r.graph.as_deref().map(|g| format!(" on {g}")).unwrap_or_default();
                    let status = if r.passed { "ok  " } else { "FAIL" };
                    let word = |e: cases::Expect| if e == cases::Expect::Allow { "allow" } else { "deny" };
                    println!("{status} case {}: {} {}{on}: expected {}, got {}", r.case, r.actor, r.action, word(r.expect), word(r.got));
                }
                println!("{} passed, {failed} failed", results.len() - failed);
            }
            Ok(if failed == 0 { 0 } else { 1 })
        }
    }
}
