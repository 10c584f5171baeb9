//! OpenMetrics 1.0 family rules, checked in `Mode::Strict` on top of the syntax:
//! families are contiguous and unique, metadata precedes samples and is not repeated,
//! names do not clash, values fit the type, histograms and summaries are well formed,
//! exemplars sit only where allowed and stay within 128 characters.

use std::collections::HashSet;

use model::{BUCKET_LABEL, MetricType, QUANTILE_LABEL, Timestamp};

use crate::entry::LabelPair;
use crate::float::parse_openmetrics_float;
use crate::parser::MetaKind;

/// The longest exemplar label set, in characters of names plus values.
const MAX_EXEMPLAR_LABEL_CHARS: usize = 128;

type Check = Result<(), String>;
type OwnedLabels = Vec<(String, String)>;

/// The role a sample name plays inside its family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Plain,
    Total,
    Created,
    Info,
    Quantile,
    Sum,
    Count,
    Bucket,
    GSum,
    GCount,
}

/// Per-metric (label set without `le`/`quantile`) state of a histogram-like family.
#[derive(Debug, Default)]
struct Metric {
    key: OwnedLabels,
    samples: usize,
    last_le: Option<f64>,
    last_bucket: Option<f64>,
    inf_bucket: Option<f64>,
    negative_bucket: bool,
    past_buckets: bool,
    count: Option<f64>,
    sum: Option<f64>,
}

#[derive(Debug)]
struct Family {
    name: String,
    declared: Option<MetricType>,
    help: bool,
    unit: Option<String>,
    has_samples: bool,
    done_metrics: HashSet<OwnedLabels>,
    metric: Option<Metric>,
    last_series: Option<(String, OwnedLabels, Option<Timestamp>)>,
}

impl Family {
    fn new(name: &str) -> Self {
        Family {
            name: name.to_string(),
            declared: None,
            help: false,
            unit: None,
            has_samples: false,
            done_metrics: HashSet::new(),
            metric: None,
            last_series: None,
        }
    }

    fn mtype(&self) -> MetricType {
        self.declared.unwrap_or(MetricType::Unknown)
    }

    /// The role of sample `name` in this family, or `None` when it starts another family.
    fn part_of(&self, name: &str) -> Option<Part> {
        let suffix = name.strip_prefix(self.name.as_str())?;
        use MetricType as T;
        let part = match (self.mtype(), suffix) {
            (T::Unknown | T::Gauge | T::StateSet, "") => Part::Plain,
            (T::Counter, "_total") => Part::Total,
            (T::Counter | T::Summary | T::Histogram, "_created") => Part::Created,
            (T::Info, "_info") => Part::Info,
            (T::Summary, "") => Part::Quantile,
            (T::Summary | T::Histogram, "_sum") => Part::Sum,
            (T::Summary | T::Histogram, "_count") => Part::Count,
            (T::Histogram | T::GaugeHistogram, "_bucket") => Part::Bucket,
            (T::GaugeHistogram, "_gsum") => Part::GSum,
            (T::GaugeHistogram, "_gcount") => Part::GCount,
            _ => return None,
        };
        Some(part)
    }

    /// Every sample name this family may use, for clash detection.
    fn series_names(&self) -> Vec<String> {
        use MetricType as T;
        let suffixes: &[&str] = match self.mtype() {
            T::Unknown | T::Gauge | T::StateSet => &[""],
            T::Counter => &["_total", "_created"],
            T::Info => &["_info"],
            T::Summary => &["", "_sum", "_count", "_created"],
            T::Histogram => &["_bucket", "_sum", "_count", "_created"],
            T::GaugeHistogram => &["_bucket", "_gsum", "_gcount"],
        };
        suffixes
            .iter()
            .map(|s| format!("{}{s}", self.name))
            .collect()
    }
}

/// Checks a stream of entries against the OpenMetrics family rules.
#[derive(Debug, Default)]
pub(crate) struct Validator {
    family_names: HashSet<String>,
    claimed: HashSet<String>,
    cur: Option<Family>,
}

impl Validator {
    /// A HELP, TYPE or UNIT line for `name`.
    pub(crate) fn metadata(
        &mut self,
        kind: MetaKind,
        name: &str,
        text: &str,
        mtype: MetricType,
    ) -> Check {
        if self.cur.as_ref().is_none_or(|f| f.name != name) {
            self.start_family(name)?;
        }
        let Some(fam) = self.cur.as_mut() else {
            return Err("internal: no current family".into());
        };
        if fam.has_samples {
            return Err(format!("metadata for {name:?} after its samples"));
        }
        let repeated = match kind {
            MetaKind::Help => std::mem::replace(&mut fam.help, true),
            MetaKind::Type => fam.declared.replace(mtype).is_some(),
            MetaKind::Unit => fam.unit.replace(text.to_string()).is_some(),
        };
        if repeated {
            return Err(format!("repeated metadata for {name:?}"));
        }
        let unit_set = fam.unit.as_deref().is_some_and(|u| !u.is_empty());
        if unit_set && matches!(fam.declared, Some(MetricType::Info | MetricType::StateSet)) {
            return Err(format!("{} {name:?} cannot have a unit", fam.mtype()));
        }
        Ok(())
    }

    /// One sample line; `exemplar` holds the exemplar's labels when it has one.
    pub(crate) fn sample(
        &mut self,
        name: &str,
        labels: &[LabelPair<'_>],
        value: f64,
        ts: Option<Timestamp>,
        exemplar: Option<&[LabelPair<'_>]>,
    ) -> Check {
        let part = match self.cur.as_ref().and_then(|f| f.part_of(name)) {
            Some(p) => p,
            None => {
                self.start_family(name)?;
                Part::Plain
            }
        };
        let Some(fam) = self.cur.as_mut() else {
            return Err("internal: no current family".into());
        };
        fam.has_samples = true;
        check_exemplar(fam, part, exemplar)?;
        check_timestamp_order(fam, name, labels, ts)?;

        let special = match part {
            Part::Bucket => Some(BUCKET_LABEL),
            Part::Quantile => Some(QUANTILE_LABEL),
            Part::Plain if fam.mtype() == MetricType::StateSet => Some(fam.name.as_str()),
            _ => None,
        };
        let mut key: OwnedLabels = labels
            .iter()
            .filter(|(n, _)| Some(n.as_ref()) != special)
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        key.sort();
        if fam.metric.as_ref().is_none_or(|m| m.key != key) {
            if let Some(done) = fam.metric.take() {
                finish_metric(fam.mtype(), &done)?;
                fam.done_metrics.insert(done.key);
            }
            if fam.done_metrics.contains(&key) {
                return Err(format!(
                    "samples of one metric of {:?} are not together",
                    fam.name
                ));
            }
            fam.metric = Some(Metric {
                key,
                ..Metric::default()
            });
        }
        let special_value =
            special.and_then(|s| labels.iter().find(|(n, _)| n == s).map(|(_, v)| v.as_ref()));
        let mtype = fam.mtype();
        let Some(metric) = fam.metric.as_mut() else {
            return Err("internal: no current metric".into());
        };
        metric.samples += 1;
        check_value(mtype, part, special_value, value, metric)
    }

    /// `# EOF`: closes the last family.
    pub(crate) fn eof(&mut self) -> Check {
        self.close_family()
    }

    fn start_family(&mut self, name: &str) -> Check {
        self.close_family()?;
        if !self.family_names.insert(name.to_string()) {
            return Err(format!("metric family {name:?} appears more than once"));
        }
        self.cur = Some(Family::new(name));
        Ok(())
    }

    fn close_family(&mut self) -> Check {
        let Some(mut fam) = self.cur.take() else {
            return Ok(());
        };
        if let Some(m) = fam.metric.take() {
            finish_metric(fam.mtype(), &m)?;
        }
        for n in fam.series_names() {
            if !self.claimed.insert(n.clone()) {
                return Err(format!(
                    "metric family {:?} clashes on name {n:?}",
                    fam.name
                ));
            }
        }
        Ok(())
    }
}

fn check_exemplar(fam: &Family, part: Part, exemplar: Option<&[LabelPair<'_>]>) -> Check {
    let Some(labels) = exemplar else {
        return Ok(());
    };
    let allowed = matches!(
        (fam.mtype(), part),
        (MetricType::Counter, Part::Total)
            | (
                MetricType::Histogram | MetricType::GaugeHistogram,
                Part::Bucket
            )
    );
    if !allowed {
        return Err(format!(
            "exemplar not allowed on this sample of {:?}",
            fam.name
        ));
    }
    let chars: usize = labels
        .iter()
        .map(|(n, v)| n.chars().count() + v.chars().count())
        .sum();
    if chars > MAX_EXEMPLAR_LABEL_CHARS {
        return Err(format!(
            "exemplar labels have {chars} characters, more than {MAX_EXEMPLAR_LABEL_CHARS}"
        ));
    }
    Ok(())
}

fn check_timestamp_order(
    fam: &mut Family,
    name: &str,
    labels: &[LabelPair<'_>],
    ts: Option<Timestamp>,
) -> Check {
    let mut series: OwnedLabels = labels
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    series.sort();
    if let Some((last_name, last_labels, last_ts)) = &fam.last_series
        && last_name == name
        && *last_labels == series
    {
        match (last_ts, ts) {
            (Some(a), Some(b)) if b >= *a => {}
            (Some(_), Some(_)) => return Err(format!("timestamps of {name:?} go backwards")),
            _ => return Err(format!("repeated sample of {name:?} without timestamps")),
        }
    }
    fam.last_series = Some((name.to_string(), series, ts));
    Ok(())
}

fn non_negative(what: &str, v: f64) -> Check {
    if v.is_nan() || v < 0.0 {
        Err(format!("{what} must be a non-negative number, got {v}"))
    } else {
        Ok(())
    }
}

fn check_value(
    mtype: MetricType,
    part: Part,
    special: Option<&str>,
    value: f64,
    m: &mut Metric,
) -> Check {
    match part {
        Part::Plain if mtype == MetricType::StateSet => {
            if special.is_none() {
                return Err("stateset sample lacks the label named after its family".into());
            }
            if value != 0.0 && value != 1.0 {
                return Err(format!("stateset value must be 0 or 1, got {value}"));
            }
        }
        Part::Plain | Part::Created => {}
        Part::Total => non_negative("counter total", value)?,
        Part::Info => {
            if value != 1.0 {
                return Err(format!("info value must be 1, got {value}"));
            }
        }
        Part::Quantile => {
            let q = special
                .ok_or("summary sample lacks a quantile label")?
                .to_string();
            match parse_openmetrics_float(&q) {
                Some(q) if (0.0..=1.0).contains(&q) => {}
                _ => return Err(format!("invalid quantile {q:?}")),
            }
            if value < 0.0 {
                return Err(format!("quantile value must not be negative, got {value}"));
            }
        }
        Part::GSum => {
            if value.is_nan() {
                return Err("gauge histogram gsum must not be NaN".into());
            }
            m.past_buckets = true;
            m.sum = Some(value);
        }
        Part::Sum if mtype == MetricType::Histogram => {
            if value.is_nan() {
                return Err("histogram sum must not be NaN".into());
            }
            m.past_buckets = true;
            m.sum = Some(value);
        }
        Part::Sum | Part::Count => non_negative("summary sum and count", value)?,
        Part::GCount => {
            non_negative("histogram count", value)?;
            m.past_buckets = true;
            m.count = Some(value);
        }
        Part::Bucket => {
            let le = special.ok_or("histogram bucket lacks an le label")?;
            let bound = parse_openmetrics_float(le)
                .filter(|b| !b.is_nan())
                .ok_or_else(|| format!("invalid le {le:?}"))?;
            if m.past_buckets {
                return Err("histogram bucket after its count or sum".into());
            }
            if m.last_le.is_some_and(|prev| bound <= prev) {
                return Err(format!("histogram buckets out of order at le={le:?}"));
            }
            non_negative("bucket count", value)?;
            if m.last_bucket.is_some_and(|prev| value < prev) {
                return Err(format!("histogram bucket counts decrease at le={le:?}"));
            }
            m.last_le = Some(bound);
            m.last_bucket = Some(value);
            if bound < 0.0 {
                m.negative_bucket = true;
            }
            if bound == f64::INFINITY {
                m.inf_bucket = Some(value);
            }
        }
    }
    // `_count` of a histogram shares its arm with the summary above; record it here.
    if part == Part::Count && mtype == MetricType::Histogram {
        m.past_buckets = true;
        m.count = Some(value);
    }
    Ok(())
}

/// Whole-metric rules of histograms and gauge histograms.
fn finish_metric(mtype: MetricType, m: &Metric) -> Check {
    let gauge = match mtype {
        MetricType::Histogram => false,
        MetricType::GaugeHistogram => true,
        _ => return Ok(()),
    };
    if m.samples == 0 {
        return Ok(());
    }
    let Some(inf) = m.inf_bucket else {
        return Err("histogram lacks a +Inf bucket".into());
    };
    if m.count.is_some() != m.sum.is_some() {
        return Err("histogram must have both count and sum, or neither".into());
    }
    if let Some(count) = m.count
        && count != inf
    {
        return Err(format!(
            "histogram count {count} differs from the +Inf bucket {inf}"
        ));
    }
    if let Some(sum) = m.sum {
        if !gauge && m.negative_bucket {
            return Err("histogram with negative buckets cannot have a sum".into());
        }
        if sum < 0.0 && !m.negative_bucket {
            return Err(format!(
                "histogram sum {sum} is negative without negative buckets"
            ));
        }
    }
    Ok(())
}
