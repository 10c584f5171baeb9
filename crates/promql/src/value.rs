//! What expressions evaluate to: scalars, strings, instant vectors and range
//! vectors, each held over all the steps of an evaluation at once.

use std::sync::Arc;

use model::{FloatHistogram, HistogramSample, Labels, Sample, Timestamp};

/// The evaluation times of a query: `start, start + step, ..., end` (inclusive).
/// An instant query is one step (`start == end`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Steps {
    /// First evaluation time, ms.
    pub start: Timestamp,
    /// Last evaluation time, ms (the last step is the largest `start + k*step <= end`).
    pub end: Timestamp,
    /// Interval between steps, ms (> 0).
    pub step: i64,
}

impl Steps {
    /// One evaluation at `t`.
    pub fn instant(t: Timestamp) -> Self {
        Steps {
            start: t,
            end: t,
            step: 1,
        }
    }

    /// Number of steps.
    pub fn len(&self) -> usize {
        if self.end < self.start {
            return 0;
        }
        usize::try_from((self.end - self.start) / self.step.max(1) + 1).unwrap_or(usize::MAX)
    }

    /// False: a query has at least one step.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The time of step `i`.
    pub fn at(&self, i: usize) -> Timestamp {
        self.start + self.step * i as i64
    }

    /// The index of the step at time `t`, if `t` is one.
    pub fn index_of(&self, t: Timestamp) -> Option<usize> {
        if t < self.start || t > self.end || (t - self.start) % self.step.max(1) != 0 {
            return None;
        }
        usize::try_from((t - self.start) / self.step.max(1)).ok()
    }

    /// Every step time, in order.
    pub fn iter(&self) -> impl Iterator<Item = Timestamp> + '_ {
        (0..self.len()).map(|i| self.at(i))
    }
}

/// One series: its labels and samples in time order. In an instant vector held
/// over steps, the samples' times are step times (one per step at most, float
/// or histogram); in a range vector they are the raw sample times.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Its labels.
    pub labels: Labels,
    /// Float samples, oldest first.
    pub samples: Vec<Sample>,
    /// Native-histogram samples, oldest first (never at a float sample's time).
    pub histograms: Vec<HistogramSample>,
    /// With delayed name removal: `__name__` is still in `labels` but goes at the end.
    pub drop_name: bool,
}

impl Series {
    /// A series with float samples.
    pub fn new(labels: Labels, samples: Vec<Sample>) -> Self {
        Series {
            labels,
            samples,
            histograms: Vec::new(),
            drop_name: false,
        }
    }

    /// A series with samples of both kinds.
    pub fn with_histograms(
        labels: Labels,
        samples: Vec<Sample>,
        histograms: Vec<HistogramSample>,
    ) -> Self {
        Series {
            labels,
            samples,
            histograms,
            drop_name: false,
        }
    }

    /// No sample of either kind.
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty() && self.histograms.is_empty()
    }
}

/// An evaluated expression, over all steps.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// One value per step (`len == steps.len()`).
    Scalar(Vec<f64>),
    /// A string literal (the same at every step).
    String(String),
    /// An instant vector over the steps: each series holds at most one sample per
    /// step, stamped with the step time. Label sets are unique per step.
    Vector(Vec<Series>),
    /// A range vector (raw samples); only an instant query can return one.
    Matrix(Vec<Series>),
}

impl Value {
    /// The PromQL type name, as errors print it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Scalar(_) => "scalar",
            Value::String(_) => "string",
            Value::Vector(_) => "vector",
            Value::Matrix(_) => "matrix",
        }
    }
}

/// One element of an instant vector at a single time.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorSample {
    /// Labels.
    pub labels: Labels,
    /// Evaluation time, ms.
    pub t: Timestamp,
    /// Value (0 for a histogram sample).
    pub v: f64,
    /// The histogram, when this is a histogram sample.
    pub h: Option<Arc<FloatHistogram>>,
}

/// The result of a query, as the HTTP API returns it.
#[derive(Debug, Clone, PartialEq)]
pub enum QueryValue {
    /// `resultType: scalar`.
    Scalar(Timestamp, f64),
    /// `resultType: string`.
    String(Timestamp, String),
    /// `resultType: vector` (instant queries).
    Vector(Vec<VectorSample>),
    /// `resultType: matrix` (range queries, and instant queries of range vectors),
    /// sorted by labels.
    Matrix(Vec<Series>),
}

impl QueryValue {
    /// `resultType`.
    pub fn type_name(&self) -> &'static str {
        match self {
            QueryValue::Scalar(..) => "scalar",
            QueryValue::String(..) => "string",
            QueryValue::Vector(_) => "vector",
            QueryValue::Matrix(_) => "matrix",
        }
    }

    /// Keeps the first `limit` series; true when some were dropped.
    pub fn truncate(&mut self, limit: usize) -> bool {
        match self {
            QueryValue::Vector(v) if v.len() > limit => v.truncate(limit),
            QueryValue::Matrix(m) if m.len() > limit => m.truncate(limit),
            _ => return false,
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps() {
        let s = Steps {
            start: 10,
            end: 35,
            step: 10,
        };
        assert_eq!(s.len(), 3);
        assert_eq!(s.iter().collect::<Vec<_>>(), [10, 20, 30]);
        assert_eq!(s.index_of(20), Some(1));
        assert_eq!(s.index_of(25), None);
        assert_eq!(s.index_of(40), None);
        assert_eq!(Steps::instant(7).len(), 1);
    }
}
