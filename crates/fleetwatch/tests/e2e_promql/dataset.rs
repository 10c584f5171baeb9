//! One deterministic dataset, remote-written in time order into the hub and into the
//! reference Prometheus.
//!
//! Shape: three clusters (`east`, `west`, `north`), two jobs (`api`, `db`) with two
//! instances each, 201 samples per series at a 15 s interval ending just before now
//! (50 minutes). Sample timestamps sit 4.1 s after the 15 s grid of the epoch (their
//! millisecond part is always 100), so that queries can be evaluated at times that
//! never coincide with a sample or with a range/lookback/subquery boundary: see
//! [`Dataset::eval_ms`].
//!
//! What is in it, and which edge each part exercises:
//! - `up`: 1, except `north/db/1` that is 0 from step 120 and `west/api/1` that is 0 for
//!   steps 60..80.
//! - `http_requests_total{code,method}`: counters starting at [`COUNTER_BASE`]; every series
//!   of `east/api/0` resets at step 100, `west/db/1` at step 150; `east/api/*` has
//!   a high 500 share (alert-style ratios).
//! - `process_cpu_seconds_total`: a fractional counter with a reset at step 170 on `north/*/0`.
//! - `http_request_duration_seconds_bucket{le}`, `_sum`, `_count` (job `api` only): a
//!   classic histogram built from deterministic observations, buckets cumulative and
//!   monotonic; exemplars on `le="0.5"` every tenth sample.
//! - `node_temperature_celsius`: a gauge with negative values; `east/db/0` is NaN every
//!   50 steps from 25, `west/db/0` is +Inf at step 130 and -Inf at step 131.
//! - `queue_depth`: small integers (for `count_values`, `changes`, comparisons).
//! - `app_build_info{version}`: info-style series for joins; `east/api/*` switches from
//!   1.2.3 to 1.3.0 at step 100 (the old series gets a staleness marker).
//! - `batch_last_success_timestamp_seconds` (job `batch`): present for steps 0..=60 and
//!   110..=200, a gap of 12 minutes without a staleness marker (lookback edge at step 80).
//! - `ephemeral_jobs_running` (job `batch`): stops after step 80 with a staleness marker
//!   (`0x7ff0000000000002`) at step 81; in `north` a second series starts at step 100.

use remote::codec::{Exemplar, Label, MetricMetadata, MetricTypeProto, Sample, TimeSeries};

/// Interval between samples.
pub const STEP_MS: i64 = 15_000;
/// Samples per full series: steps 0..=200.
pub const LAST_STEP: i64 = 200;
/// Where samples sit relative to the epoch's 15 s grid.
pub const SAMPLE_OFFSET_MS: i64 = 4_100;
/// Where evaluation times sit relative to a sample: between two samples, and with a
/// millisecond part (400) that neither samples (100) nor whole-second subquery steps
/// (000) have.
pub const EVAL_OFFSET_MS: i64 = 7_300;

/// Where counters start. Prometheus 2.42 clamps a counter's extrapolation to its zero
/// point before applying the extrapolation threshold, Prometheus 3 after; the two differ
/// when a window starts before a series' first sample and the zero point lies between
/// half an interval and 1.1 intervals before it. Counters starting far from zero (and
/// resetting only long after the first sample) keep the zero point out of that band.
pub const COUNTER_BASE: f64 = 10_000.0;

/// Prometheus's staleness marker.
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

pub const CLUSTERS: [&str; 3] = ["east", "west", "north"];
pub const JOBS: [&str; 2] = ["api", "db"];
const LE: [&str; 7] = ["0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf"];

/// One series: sorted labels (with `__name__`), samples in time order.
pub struct Series {
    pub labels: Vec<(String, String)>,
    pub samples: Vec<(i64, f64)>,
    pub exemplars: Vec<Exemplar>,
}

/// The generated data.
pub struct Dataset {
    /// Timestamp of step 0.
    pub start_ms: i64,
    pub series: Vec<Series>,
}

/// A small stable number from a string (FNV-1a), so series differ.
fn seed(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h % 1000
}

struct Target {
    cluster: &'static str,
    job: &'static str,
    index: usize,
    instance: String,
}

impl Target {
    fn labels(&self, name: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut l: Vec<(String, String)> = vec![
            ("__name__".into(), name.into()),
            ("cluster".into(), self.cluster.into()),
            ("job".into(), self.job.into()),
            ("instance".into(), self.instance.clone()),
        ];
        l.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        l.sort();
        l
    }

    fn is(&self, cluster: &str, job: &str, index: usize) -> bool {
        self.cluster == cluster && self.job == job && self.index == index
    }
}

impl Dataset {
    /// Generates the data so that the last sample is before `now_ms`.
    pub fn generate(now_ms: i64) -> Dataset {
        let span = LAST_STEP * STEP_MS;
        let start_ms = (now_ms - span - STEP_MS).div_euclid(STEP_MS) * STEP_MS + SAMPLE_OFFSET_MS;
        let ts = |k: i64| start_ms + k * STEP_MS;
        let steps = 0..=LAST_STEP;
        let mut series = Vec::new();
        let mut targets = Vec::new();
        for (ci, cluster) in CLUSTERS.iter().enumerate() {
            for job in JOBS {
                for index in 0..2 {
                    targets.push(Target {
                        cluster,
                        job,
                        index,
                        instance: format!("10.0.{ci}.{index}:9100"),
                    });
                }
            }
        }
        for (ti, t) in targets.iter().enumerate() {
            let s = seed(&t.instance) + seed(t.job);
            // up
            series.push(Series {
                labels: t.labels("up", &[]),
                samples: steps
                    .clone()
                    .map(|k| {
                        let down = (t.is("north", "db", 1) && k >= 120)
                            || (t.is("west", "api", 1) && (60..80).contains(&k));
                        (ts(k), if down { 0.0 } else { 1.0 })
                    })
                    .collect(),
                exemplars: vec![],
            });
            // http_requests_total
            for (ci, code) in ["200", "500"].into_iter().enumerate() {
                for (mi, method) in ["GET", "POST"].into_iter().enumerate() {
                    let ss = s + seed(code) + seed(method);
                    // Distinct per series, so that no two rates, nor sums of them, tie
                    // (sort, topk, bottomk): square roots of distinct integers are
                    // linearly independent over the rationals.
                    let unique = ((ti * 4 + ci * 2 + mi + 2) as f64).sqrt() / 64.0;
                    // Far from zero: see `COUNTER_BASE`.
                    let mut v = COUNTER_BASE + (ti * 4 + ci * 2 + mi) as f64;
                    let mut samples = Vec::new();
                    for k in steps.clone() {
                        let inc = if code == "200" {
                            10 + (k as u64 * 7 + ss) % 13
                        } else if t.cluster == "east" && t.job == "api" {
                            2 + (k as u64 + ss) % 5
                        } else {
                            u64::from((k as u64 * 3 + ss).is_multiple_of(4))
                        };
                        let reset = (t.is("east", "api", 0) && k == 100)
                            || (t.is("west", "db", 1) && k == 150);
                        if reset {
                            v = 0.0;
                        }
                        v += inc as f64 + unique;
                        samples.push((ts(k), v));
                    }
                    series.push(Series {
                        labels: t
                            .labels("http_requests_total", &[("code", code), ("method", method)]),
                        samples,
                        exemplars: vec![],
                    });
                }
            }
            // process_cpu_seconds_total
            {
                let mut v = 100.0 + (s % 50) as f64;
                let mut samples = Vec::new();
                for k in steps.clone() {
                    if t.cluster == "north" && t.index == 0 && k == 170 {
                        v = 0.25;
                    }
                    v += 0.125 * ((k as u64 + s) % 9) as f64 + 0.5;
                    samples.push((ts(k), v));
                }
                series.push(Series {
                    labels: t.labels("process_cpu_seconds_total", &[]),
                    samples,
                    exemplars: vec![],
                });
            }
            // classic histogram, job api only
            if t.job == "api" {
                let bounds: Vec<f64> = LE
                    .iter()
                    .map(|l| l.parse::<f64>().unwrap_or(f64::INFINITY))
                    .collect();
                // Far from zero (see `COUNTER_BASE`), cumulative.
                let mut buckets: Vec<u64> = [40, 90, 200, 400, 700, 900, 1000]
                    .into_iter()
                    .map(|c| c * COUNTER_BASE as u64 / 1000)
                    .collect();
                let mut sum = 0.6 * COUNTER_BASE;
                let mut count = COUNTER_BASE as u64;
                let mut bucket_samples: Vec<Vec<(i64, f64)>> = vec![Vec::new(); LE.len()];
                let mut sum_samples = Vec::new();
                let mut count_samples = Vec::new();
                let mut exemplars = Vec::new();
                for k in steps.clone() {
                    let n = 5 + (k as u64 + s) % 7;
                    for i in 0..n {
                        // Observations in [0, 2.975]; the east cluster is slower.
                        let mut obs = ((i * 37 + k as u64 * 11 + s) % 120) as f64 / 40.0;
                        if t.cluster == "east" {
                            obs = (obs * 1.5).min(4.0);
                        }
                        sum += obs;
                        count += 1;
                        for (j, b) in bounds.iter().enumerate() {
                            if obs <= *b {
                                buckets[j] += 1;
                            }
                        }
                    }
                    for (j, b) in buckets.iter().enumerate() {
                        bucket_samples[j].push((ts(k), *b as f64));
                    }
                    sum_samples.push((ts(k), sum));
                    count_samples.push((ts(k), count as f64));
                    if k % 10 == 0 {
                        exemplars.push(Exemplar {
                            labels: vec![Label {
                                name: "trace_id".into(),
                                value: format!("{:016x}", seed(&t.instance) * 1_000 + k as u64),
                            }],
                            value: 0.3,
                            timestamp: ts(k),
                        });
                    }
                }
                for (j, le) in LE.iter().enumerate() {
                    series.push(Series {
                        labels: t.labels("http_request_duration_seconds_bucket", &[("le", le)]),
                        samples: std::mem::take(&mut bucket_samples[j]),
                        exemplars: if *le == "0.5" {
                            std::mem::take(&mut exemplars)
                        } else {
                            vec![]
                        },
                    });
                }
                series.push(Series {
                    labels: t.labels("http_request_duration_seconds_sum", &[]),
                    samples: sum_samples,
                    exemplars: vec![],
                });
                series.push(Series {
                    labels: t.labels("http_request_duration_seconds_count", &[]),
                    samples: count_samples,
                    exemplars: vec![],
                });
            }
            // node_temperature_celsius
            series.push(Series {
                labels: t.labels("node_temperature_celsius", &[]),
                samples: steps
                    .clone()
                    .map(|k| {
                        let mut v = 10.0 * ((k as f64) / 9.0 + s as f64).sin() - 3.0
                            + 0.25 * (k % 4) as f64;
                        if t.is("east", "db", 0) && k % 50 == 25 {
                            v = f64::NAN;
                        }
                        if t.is("west", "db", 0) && k == 130 {
                            v = f64::INFINITY;
                        }
                        if t.is("west", "db", 0) && k == 131 {
                            v = f64::NEG_INFINITY;
                        }
                        (ts(k), v)
                    })
                    .collect(),
                exemplars: vec![],
            });
            // queue_depth
            series.push(Series {
                labels: t.labels("queue_depth", &[]),
                samples: steps
                    .clone()
                    .map(|k| (ts(k), ((k as u64 / 10 + s) % 6) as f64))
                    .collect(),
                exemplars: vec![],
            });
            // app_build_info
            if t.cluster == "east" && t.job == "api" {
                let mut old: Vec<(i64, f64)> = (0..100).map(|k| (ts(k), 1.0)).collect();
                old.push((ts(100), f64::from_bits(STALE_NAN_BITS)));
                series.push(Series {
                    labels: t.labels("app_build_info", &[("version", "1.2.3")]),
                    samples: old,
                    exemplars: vec![],
                });
                series.push(Series {
                    labels: t.labels("app_build_info", &[("version", "1.3.0")]),
                    samples: (100..=LAST_STEP).map(|k| (ts(k), 1.0)).collect(),
                    exemplars: vec![],
                });
            } else {
                series.push(Series {
                    labels: t.labels("app_build_info", &[("version", "1.2.3")]),
                    samples: steps.clone().map(|k| (ts(k), 1.0)).collect(),
                    exemplars: vec![],
                });
            }
        }
        // Batch jobs, one per cluster.
        for cluster in CLUSTERS {
            let batch = Target {
                cluster,
                job: "batch",
                index: 0,
                instance: "batch-1".into(),
            };
            series.push(Series {
                labels: batch.labels("batch_last_success_timestamp_seconds", &[]),
                samples: steps
                    .clone()
                    .filter(|k| *k <= 60 || *k >= 110)
                    .map(|k| (ts(k), (ts(k - (k % 4)) / 1000) as f64))
                    .collect(),
                exemplars: vec![],
            });
            let worker = Target {
                cluster,
                job: "batch",
                index: 0,
                instance: format!("worker-{cluster}"),
            };
            let mut samples: Vec<(i64, f64)> =
                (0..=80).map(|k| (ts(k), (k % 3) as f64 + 1.0)).collect();
            samples.push((ts(81), f64::from_bits(STALE_NAN_BITS)));
            series.push(Series {
                labels: worker.labels("ephemeral_jobs_running", &[]),
                samples,
                exemplars: vec![],
            });
            if cluster == "north" {
                let late = Target {
                    cluster,
                    job: "batch",
                    index: 1,
                    instance: "worker-north-2".into(),
                };
                series.push(Series {
                    labels: late.labels("ephemeral_jobs_running", &[]),
                    samples: (100..=LAST_STEP).map(|k| (ts(k), 2.0)).collect(),
                    exemplars: vec![],
                });
            }
        }
        Dataset { start_ms, series }
    }

    /// Timestamp of sample step `k`.
    pub fn sample_ms(&self, k: i64) -> i64 {
        self.start_ms + k * STEP_MS
    }

    /// An evaluation time 7.3 s after sample step `k`: strictly between two samples, and
    /// never on a range, lookback or subquery-step boundary (see the module comment).
    pub fn eval_ms(&self, k: i64) -> i64 {
        self.sample_ms(k) + EVAL_OFFSET_MS
    }

    /// Remote-write request bodies (protobuf, not yet compressed), in time order: each
    /// carries `chunk` steps of every series; metadata rides along in the first.
    pub fn write_requests(&self, chunk: i64) -> Vec<remote::codec::WriteRequest> {
        let mut out = Vec::new();
        let mut k0 = 0;
        while k0 <= LAST_STEP {
            let (lo, hi) = (self.sample_ms(k0), self.sample_ms(k0 + chunk));
            let timeseries: Vec<TimeSeries> = self
                .series
                .iter()
                .filter_map(|s| {
                    let samples: Vec<Sample> = s
                        .samples
                        .iter()
                        .filter(|(t, _)| *t >= lo && *t < hi)
                        .map(|(t, v)| Sample {
                            value: *v,
                            timestamp: *t,
                        })
                        .collect();
                    if samples.is_empty() {
                        return None;
                    }
                    let exemplars = s
                        .exemplars
                        .iter()
                        .filter(|e| e.timestamp >= lo && e.timestamp < hi)
                        .cloned()
                        .collect();
                    Some(TimeSeries {
                        labels: s
                            .labels
                            .iter()
                            .map(|(n, v)| Label {
                                name: n.clone(),
                                value: v.clone(),
                            })
                            .collect(),
                        samples,
                        exemplars,
                    })
                })
                .collect();
            let metadata = if k0 == 0 { metadata() } else { vec![] };
            out.push(remote::codec::WriteRequest {
                timeseries,
                metadata,
            });
            k0 += chunk;
        }
        out
    }
}

fn metadata() -> Vec<MetricMetadata> {
    [
        ("up", MetricTypeProto::Gauge, "1 if the target is up."),
        (
            "http_requests_total",
            MetricTypeProto::Counter,
            "Requests served.",
        ),
        (
            "process_cpu_seconds_total",
            MetricTypeProto::Counter,
            "CPU time.",
        ),
        (
            "http_request_duration_seconds",
            MetricTypeProto::Histogram,
            "Request latency.",
        ),
        (
            "node_temperature_celsius",
            MetricTypeProto::Gauge,
            "Temperature.",
        ),
        ("queue_depth", MetricTypeProto::Gauge, "Items queued."),
        (
            "app_build_info",
            MetricTypeProto::Gauge,
            "Build information.",
        ),
    ]
    .into_iter()
    .map(|(name, t, help)| MetricMetadata {
        r#type: t as i32,
        metric_family_name: name.into(),
        help: help.into(),
        unit: String::new(),
    })
    .collect()
}
