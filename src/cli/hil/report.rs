//! The checklist's reports: a line a check on stderr as it runs, JSON, and JUnit XML (one
//! testsuite for the rig, a testcase per check; product failures as `<failure>`, infrastructure as
//! `<error>`).

use super::{Check, Outcome, Rig};

pub(super) fn line(c: &Check) -> String {
    let (word, message) = match &c.outcome {
        Outcome::Pass(m) => ("pass ", m),
        Outcome::Fail(m) => ("FAIL ", m),
        Outcome::Error(m) => ("ERROR", m),
    };
    format!(
        "{word} {:<8} {:<20} {:>6.2}s  {message}",
        c.device.as_str(),
        c.name,
        c.seconds
    )
}

/// The checks as JSON.
pub fn to_json(rig: &Rig, checks: &[Check]) -> serde_json::Value {
    let count = |f: fn(&Outcome) -> bool| checks.iter().filter(|c| f(&c.outcome)).count();
    serde_json::json!({
        "rig": rig.name,
        "checks": checks.iter().map(|c| {
            let (outcome, message) = match &c.outcome {
                Outcome::Pass(m) => ("pass", m),
                Outcome::Fail(m) => ("fail", m),
                Outcome::Error(m) => ("error", m),
            };
            serde_json::json!({
                "device": c.device.as_str(), "check": c.name, "outcome": outcome,
                "message": message, "seconds": c.seconds,
            })
        }).collect::<Vec<_>>(),
        "summary": {
            "pass": count(|o| matches!(o, Outcome::Pass(_))),
            "fail": count(|o| matches!(o, Outcome::Fail(_))),
            "error": count(|o| matches!(o, Outcome::Error(_))),
        },
    })
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The checks as JUnit XML: one testsuite (the rig), a testcase per check (classname = device);
/// product failures as `<failure>`, infrastructure as `<error>`.
pub fn to_junit(rig: &Rig, checks: &[Check]) -> String {
    let failures = checks
        .iter()
        .filter(|c| matches!(c.outcome, Outcome::Fail(_)))
        .count();
    let errors = checks
        .iter()
        .filter(|c| matches!(c.outcome, Outcome::Error(_)))
        .count();
    let total: f64 = checks.iter().map(|c| c.seconds).sum();
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n  <testsuite name=\"hil {}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" time=\"{total:.3}\">\n",
        xml_escape(&rig.name),
        checks.len()
    );
    for c in checks {
        xml.push_str(&format!(
            "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"",
            c.device.as_str(),
            c.name,
            c.seconds
        ));
        match &c.outcome {
            Outcome::Pass(_) => xml.push_str("/>\n"),
            Outcome::Fail(m) => xml.push_str(&format!(
                ">\n      <failure message=\"{}\"/>\n    </testcase>\n",
                xml_escape(m)
            )),
            Outcome::Error(m) => xml.push_str(&format!(
                ">\n      <error message=\"{}\"/>\n    </testcase>\n",
                xml_escape(m)
            )),
        }
    }
    xml.push_str("  </testsuite>\n</testsuites>\n");
    xml
}
