//! Running a script: loading data, evaluating each case (plus the extra
//! `@` and range-mode checks), and deciding pass, fail or skip.

use std::collections::BTreeSet;
use std::sync::LazyLock;
use std::time::Duration;

use model::Labels;
use regex::Regex;

use super::case::{EvalCase, RangeSpec};
use super::compare::{
    assert_sorted, check_annotations, check_expected_failure, compare_result, points_at,
};
use super::rewrite::{at_rerun_times, pin_at, selects_any};
use super::script::{Command, Load, parse_script};
use super::series::SeqValue;
use super::store::MemStore;
use crate::engine::{Engine, EngineOptions};
use crate::error::EvalError;
use crate::parse::{ParsedQuery, parse};
use crate::value::QueryValue;

/// How the runner runs.
#[derive(Debug, Clone, Copy)]
pub struct RunOptions {
    /// Run the `@` re-runs and the range-mode cross-check of every instant case.
    pub extra_checks: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions { extra_checks: true }
    }
}

/// Why a case was not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SkipReason {
    /// It expects native histograms or queries native-histogram data.
    NativeHistogram,
    /// The parser cannot parse the query.
    Unparsed,
    /// Every case of `start_timestamps.test`.
    StartTimestamps,
}

impl SkipReason {
    /// The name printed in reports.
    pub fn as_str(&self) -> &'static str {
        match self {
            SkipReason::NativeHistogram => "native-histogram",
            SkipReason::Unparsed => "unparsed",
            SkipReason::StartTimestamps => "start-timestamps",
        }
    }
}

/// What happened to one case.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Every check held.
    Pass,
    /// Something differed; the text says what (and which check).
    Fail(String),
    /// Not run.
    Skip(SkipReason),
}

/// One case's outcome.
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// Line of the `eval` command.
    pub line: usize,
    /// The query.
    pub query: String,
    /// The outcome.
    pub outcome: Outcome,
}

/// The outcome of a whole script.
#[derive(Debug, Clone, Default)]
pub struct ScriptResult {
    /// Each case, in file order.
    pub cases: Vec<CaseResult>,
    /// A script that could not be read or loaded: line and message. The
    /// cases before it (if any) still count.
    pub error: Option<(usize, String)>,
}

/// The settings the scripts' expected values assume (section 6).
pub fn test_engine_options() -> EngineOptions {
    EngineOptions {
        lookback_delta_ms: 5 * 60 * 1000,
        max_samples: 10_000,
        timeout: Duration::from_secs(100),
        default_subquery_step_ms: 60_000,
        delayed_name_removal: true,
        ..EngineOptions::default()
    }
}

/// `start()`, `end()`, `range()`, `step()` resolve differently in range mode.
static QUERY_CONTEXT_FUNCS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(start|end|range|step)\(\)").unwrap_or_else(|e| panic!("static regex: {e}"))
});

/// Runs the script `text`; `file_name` decides the start-timestamp skip.
pub fn run_script(file_name: &str, text: &str, opts: RunOptions) -> ScriptResult {
    let mut result = ScriptResult::default();
    let cmds = match parse_script(text) {
        Ok(c) => c,
        Err(e) => {
            result.error = Some((e.line, e.msg));
            return result;
        }
    };
    let mut runner = Runner {
        engine: Engine::new(test_engine_options()),
        store: MemStore::new(),
        histogram_series: BTreeSet::new(),
        opts,
        start_timestamps: file_name == "start_timestamps.test",
    };
    for cmd in &cmds {
        match cmd {
            Command::Clear => runner.clear(),
            Command::Load(l) => runner.load(l),
            Command::Eval(case) => result.cases.push(CaseResult {
                line: case.line,
                query: case.query.clone(),
                outcome: runner.run_case(case),
            }),
        }
    }
    result
}

struct Runner {
    engine: Engine,
    store: MemStore,
    /// Series with native-histogram samples since the last `clear`.
    histogram_series: BTreeSet<Labels>,
    opts: RunOptions,
    start_timestamps: bool,
}

/// Which run of a case a failure comes from.
#[derive(Debug, Clone)]
enum Check<'a> {
    Main,
    AtRerun { query: &'a str, t: i64 },
}

impl Check<'_> {
    fn label(&self, range_mode: bool) -> String {
        let mut s = match self {
            Check::Main => String::new(),
            Check::AtRerun { query, t } => format!("[at-rerun at t={t}ms: {query}] "),
        };
        if range_mode {
            s.push_str("[range-mode] ");
        }
        s
    }
}

impl Runner {
    fn clear(&mut self) {
        self.store.clear();
        self.histogram_series.clear();
    }

    /// Stores the samples of a block. The cases that read histogram series are
    /// still skipped (the engine computes few things on histograms yet).
    fn load(&mut self, l: &Load) {
        self.histogram_series.extend(l.histogram_series());
        for (labels, values) in &l.series {
            for (k, v) in values.iter().enumerate() {
                let t = k as i64 * l.interval;
                match v {
                    SeqValue::Float(f) => self.store.add(labels, t, *f),
                    SeqValue::Histogram(h) => self.store.add_histogram(labels, t, &h.h),
                    SeqValue::Omitted => {}
                }
            }
        }
    }

    fn run_case(&self, case: &EvalCase) -> Outcome {
        if self.start_timestamps {
            return Outcome::Skip(SkipReason::StartTimestamps);
        }
        if case.mentions_histogram {
            return Outcome::Skip(SkipReason::NativeHistogram);
        }
        let parsed = match parse(&case.query) {
            Ok(p) => p,
            Err(EvalError::Parse(_)) => return Outcome::Skip(SkipReason::Unparsed),
            Err(e) => return Outcome::Fail(format!("cannot parse: {e}")),
        };
        if selects_any(&parsed.expr, &self.histogram_series) {
            return Outcome::Skip(SkipReason::NativeHistogram);
        }
        let checked = match case.range {
            Some(r) => self.range_case(case, &parsed, r),
            None => self.instant_case(case, &parsed),
        };
        match checked {
            Ok(()) => Outcome::Pass,
            Err(e) => Outcome::Fail(e),
        }
    }

    fn range_case(
        &self,
        case: &EvalCase,
        parsed: &ParsedQuery,
        r: RangeSpec,
    ) -> Result<(), String> {
        let res = self
            .engine
            .range_parsed(&self.store, parsed, r.start, r.end, r.step, None);
        let res = match res {
            Err(e) if case.is_fail() => return check_expected_failure(case, &e),
            Err(e) => return Err(format!("error evaluating query: {e}")),
            Ok(_) if case.is_fail() => return Err("expected an error, but got none".to_string()),
            Ok(res) => res,
        };
        check_annotations(case, &res.annotations)?;
        compare_result(case, &res.value, Some(r))
    }

    fn instant_case(&self, case: &EvalCase, parsed: &ParsedQuery) -> Result<(), String> {
        self.instant_run(case, parsed, case.at, Check::Main)?;
        if !self.opts.extra_checks {
            return Ok(());
        }
        let Some(text) = pin_at(&parsed.expr, case.at, &case.query) else {
            return Ok(());
        };
        let pinned = parse(&text).map_err(|e| {
            format!("[at-rerun] the query re-printed with @ does not parse: {text}: {e}")
        })?;
        for t in at_rerun_times(case.at) {
            self.instant_run(case, &pinned, t, Check::AtRerun { query: &text, t })?;
        }
        Ok(())
    }

    /// One instant evaluation at `t` and, with extra checks, its range-mode twin.
    fn instant_run(
        &self,
        case: &EvalCase,
        parsed: &ParsedQuery,
        t: i64,
        check: Check<'_>,
    ) -> Result<(), String> {
        let label = check.label(false);
        let res = match self.engine.instant_parsed(&self.store, parsed, t, None) {
            Err(e) if case.is_fail() => {
                return check_expected_failure(case, &e).map_err(|m| format!("{label}{m}"));
            }
            Err(e) => return Err(format!("{label}error evaluating query: {e}")),
            Ok(_) if case.is_fail() => {
                return Err(format!("{label}expected an error, but got none"));
            }
            Ok(res) => res,
        };
        check_annotations(case, &res.annotations).map_err(|m| format!("{label}{m}"))?;
        let times = case.range_vector;
        compare_result(case, &res.value, times).map_err(|m| format!("{label}{m}"))?;
        if !self.opts.extra_checks
            || case.exclude_from_range
            || QUERY_CONTEXT_FUNCS.is_match(&parsed.text)
        {
            return Ok(());
        }
        let label = check.label(true);
        let ranged = self
            .engine
            .range_parsed(&self.store, parsed, t - 60_000, t + 60_000, 60_000, None)
            .map_err(|e| format!("{label}error evaluating query: {e}"))?;
        if case.is_ordered() {
            return Ok(());
        }
        let QueryValue::Matrix(m) = &ranged.value else {
            return Err(format!(
                "{label}range query returned a {}",
                ranged.value.type_name()
            ));
        };
        assert_sorted(m).map_err(|e| format!("{label}{e}"))?;
        let vector = points_at(m, t);
        let as_instant = match res.value {
            QueryValue::Scalar(..) => {
                let v = vector
                    .iter()
                    .find(|s| s.labels == Labels::empty())
                    .or(vector.first())
                    .ok_or_else(|| format!("{label}no point at t={t} for the scalar result"))?;
                QueryValue::Scalar(t, v.v)
            }
            _ => QueryValue::Vector(vector),
        };
        compare_result(case, &as_instant, times).map_err(|m| format!("{label}{m}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCRIPT: &str = r#"
load 1m
    m{job="a"} 0+10x4 stale
    m{job="b"} 1 _ 3
    h{job="a"} 1 {{count:1}} 2

eval instant at 2m m
    m{job="a"} 20
    m{job="b"} 3

eval instant at 2m m{job="a"}
    m{job="a"} 21

eval range from 0 to 5m step 1m m{job="b"}
    m{job="b"} 1 1 3 3 3 3

eval instant at 5m m{job="a"}

eval instant at 1m h

eval instant at 0 m[1m] @ 60
    expect range vector from 0 to 1m step 1m
    m{job="a"} _ 10

eval instant at 0 1
    expect fail

eval instant at 0 "x"
    expect string "x"

eval instant at 0 foo[1m+1m]

clear

eval instant at 2m m
"#;

    fn outcomes(opts: RunOptions) -> Vec<(usize, Outcome)> {
        let r = run_script("x.test", SCRIPT, opts);
        assert_eq!(r.error, None);
        r.cases.into_iter().map(|c| (c.line, c.outcome)).collect()
    }

    #[test]
    fn runs_compares_and_skips() {
        for extra in [true, false] {
            let got = outcomes(RunOptions {
                extra_checks: extra,
            });
            let kinds: Vec<(usize, &str)> = got
                .iter()
                .map(|(l, o)| {
                    let k = match o {
                        Outcome::Pass => "pass",
                        Outcome::Fail(_) => "fail",
                        Outcome::Skip(SkipReason::NativeHistogram) => "nh",
                        Outcome::Skip(SkipReason::Unparsed) => "unparsed",
                        Outcome::Skip(SkipReason::StartTimestamps) => "st",
                    };
                    (*l, k)
                })
                .collect();
            assert_eq!(
                kinds,
                [
                    (7, "pass"),
                    (11, "fail"),
                    (14, "pass"),
                    // Stale marker ends the series.
                    (17, "pass"),
                    (19, "nh"),
                    (21, "pass"),
                    // A literal does not fail.
                    (25, "fail"),
                    (28, "pass"),
                    (31, "unparsed"),
                    (35, "pass"),
                ],
                "extra checks {extra}"
            );
        }
        let got = outcomes(RunOptions::default());
        let Outcome::Fail(msg) = &got[1].1 else {
            panic!("fails")
        };
        assert!(
            msg.contains("expected 21") && msg.contains("got 20"),
            "{msg}"
        );
    }

    #[test]
    fn failure_labels_and_script_errors() {
        let at = Check::AtRerun {
            query: "m @ 60.000",
            t: -600_000,
        };
        assert_eq!(at.label(false), "[at-rerun at t=-600000ms: m @ 60.000] ");
        assert_eq!(Check::Main.label(true), "[range-mode] ");
        let text = "load 1m\n  m 1 2\n\neval instant at 1m m offset 1m\n  m 1\n";
        let r = run_script("x.test", text, RunOptions::default());
        assert_eq!(r.cases[0].outcome, Outcome::Pass);
        let st = run_script("start_timestamps.test", text, RunOptions::default());
        assert_eq!(
            st.cases[0].outcome,
            Outcome::Skip(SkipReason::StartTimestamps)
        );
        let broken = run_script("x.test", "load 1m\n  m 1 x\n", RunOptions::default());
        assert_eq!(broken.error.map(|e| e.0), Some(2));
    }
}
