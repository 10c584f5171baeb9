//! The process's own resource metrics, as Prometheus client libraries name them.

use std::fmt::Write as _;

/// Wall-clock time in seconds since the epoch (for `process_start_time_seconds`).
pub fn now_secs() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Appends `process_*` metrics read from /proc/self (Linux); nothing elsewhere.
pub fn render(out: &mut String, start_time_secs: f64) {
    let _ = writeln!(
        out,
        "# HELP process_start_time_seconds Start time of the process since unix epoch in seconds."
    );
    let _ = writeln!(out, "# TYPE process_start_time_seconds gauge");
    let _ = writeln!(out, "process_start_time_seconds {start_time_secs}");
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return;
    };
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
        return;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of stat: 11 and 12 after the state field.
    let ticks = 100.0; // USER_HZ on Linux
    let cpu = f
        .get(11)
        .and_then(|u| u.parse::<f64>().ok())
        .zip(f.get(12).and_then(|s| s.parse::<f64>().ok()))
        .map(|(u, s)| (u + s) / ticks);
    let rss_pages = f.get(21).and_then(|v| v.parse::<f64>().ok());
    let vsize = f.get(20).and_then(|v| v.parse::<f64>().ok());
    if let Some(cpu) = cpu {
        let _ = writeln!(
            out,
            "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds."
        );
        let _ = writeln!(out, "# TYPE process_cpu_seconds_total counter");
        let _ = writeln!(out, "process_cpu_seconds_total {cpu}");
    }
    if let Some(rss) = rss_pages {
        let _ = writeln!(
            out,
            "# HELP process_resident_memory_bytes Resident memory size in bytes."
        );
        let _ = writeln!(out, "# TYPE process_resident_memory_bytes gauge");
        let _ = writeln!(out, "process_resident_memory_bytes {}", rss * 4096.0);
    }
    if let Some(v) = vsize {
        let _ = writeln!(
            out,
            "# HELP process_virtual_memory_bytes Virtual memory size in bytes."
        );
        let _ = writeln!(out, "# TYPE process_virtual_memory_bytes gauge");
        let _ = writeln!(out, "process_virtual_memory_bytes {v}");
    }
}
