//! Target health as metrics on the agent's /metrics.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use scrape::{Health, TargetStatus};

/// Appends `fleetwatch_scrape_targets{job,health}`: how many targets of each job are up,
/// down or not yet scraped.
pub fn render(targets: &[TargetStatus], out: &mut String) {
    let mut counts: BTreeMap<(&str, &str), u64> = BTreeMap::new();
    for t in targets {
        let h = match t.health {
            Health::Up => "up",
            Health::Down => "down",
            Health::Unknown => "unknown",
        };
        *counts.entry((t.job.as_str(), h)).or_default() += 1;
    }
    let _ = writeln!(
        out,
        "# HELP fleetwatch_scrape_targets Targets per job and health."
    );
    let _ = writeln!(out, "# TYPE fleetwatch_scrape_targets gauge");
    for ((job, health), n) in counts {
        let job = job
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n");
        let _ = writeln!(
            out,
            "fleetwatch_scrape_targets{{job=\"{job}\",health=\"{health}\"}} {n}"
        );
    }
}
