//! Fan-out: one appender that writes every sample to a primary store and to secondaries
//! (for example the TSDB and a remote-write-out sink).

use std::sync::Arc;

use model::{FloatHistogram, Labels, MetricMetadata, SeriesRef, Timestamp};

use crate::{Appendable, Appender, StorageError, WriteIdentity};

/// Writes to a primary store and to any number of secondaries.
pub struct Fanout {
    primary: Arc<dyn Appendable>,
    secondaries: Vec<Arc<dyn Appendable>>,
}

impl Fanout {
    /// A fan-out over `primary` and `secondaries`.
    pub fn new(primary: Arc<dyn Appendable>, secondaries: Vec<Arc<dyn Appendable>>) -> Self {
        Fanout {
            primary,
            secondaries,
        }
    }
}

impl Appendable for Fanout {
    fn appender(&self, identity: &WriteIdentity) -> Box<dyn Appender> {
        Box::new(FanoutAppender {
            primary: self.primary.appender(identity),
            secondaries: self
                .secondaries
                .iter()
                .map(|s| s.appender(identity))
                .collect(),
        })
    }
}

struct FanoutAppender {
    primary: Box<dyn Appender>,
    secondaries: Vec<Box<dyn Appender>>,
}

impl Appender for FanoutAppender {
    fn append(&mut self, labels: &Labels, t: Timestamp, v: f64) -> Result<SeriesRef, StorageError> {
        // The primary decides what counts as accepted; secondaries only see accepted samples.
        let r = self.primary.append(labels, t, v)?;
        for s in &mut self.secondaries {
            s.append(labels, t, v)?;
        }
        Ok(r)
    }

    fn append_pairs(
        &mut self,
        labels: &[(&str, &str)],
        t: Timestamp,
        v: f64,
    ) -> Result<SeriesRef, StorageError> {
        let r = self.primary.append_pairs(labels, t, v)?;
        for s in &mut self.secondaries {
            s.append_pairs(labels, t, v)?;
        }
        Ok(r)
    }

    fn reserve(&mut self, series: usize) {
        self.primary.reserve(series);
        for s in &mut self.secondaries {
            s.reserve(series);
        }
    }

    fn append_histogram(
        &mut self,
        labels: &Labels,
        t: Timestamp,
        h: &FloatHistogram,
    ) -> Result<SeriesRef, StorageError> {
        let r = self.primary.append_histogram(labels, t, h)?;
        for s in &mut self.secondaries {
            s.append_histogram(labels, t, h)?;
        }
        Ok(r)
    }

    fn update_metadata(&mut self, metric: &str, meta: &MetricMetadata) -> Result<(), StorageError> {
        self.primary.update_metadata(metric, meta)?;
        for s in &mut self.secondaries {
            s.update_metadata(metric, meta)?;
        }
        Ok(())
    }

    fn commit(self: Box<Self>) -> Result<(), StorageError> {
        let FanoutAppender {
            primary,
            secondaries,
        } = *self;
        let first = primary.commit();
        let mut rest = Ok(());
        for s in secondaries {
            if let Err(e) = s.commit() {
                rest = Err(e);
            }
        }
        first.and(rest)
    }

    fn rollback(self: Box<Self>) {
        let FanoutAppender {
            primary,
            secondaries,
        } = *self;
        primary.rollback();
        for s in secondaries {
            s.rollback();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// Records which entry point each sample came through.
    #[derive(Default)]
    struct Rec(Mutex<Vec<&'static str>>);

    struct RecApp(Arc<Rec>);

    impl Appender for RecApp {
        fn append(&mut self, _: &Labels, _: Timestamp, _: f64) -> Result<SeriesRef, StorageError> {
            self.0
                .0
                .lock()
                .map_err(|_| StorageError::Closed)?
                .push("append");
            Ok(SeriesRef(0))
        }
        fn append_pairs(
            &mut self,
            _: &[(&str, &str)],
            _: Timestamp,
            _: f64,
        ) -> Result<SeriesRef, StorageError> {
            self.0
                .0
                .lock()
                .map_err(|_| StorageError::Closed)?
                .push("pairs");
            Ok(SeriesRef(0))
        }
        fn append_histogram(
            &mut self,
            _: &Labels,
            _: Timestamp,
            _: &FloatHistogram,
        ) -> Result<SeriesRef, StorageError> {
            self.0
                .0
                .lock()
                .map_err(|_| StorageError::Closed)?
                .push("histogram");
            Ok(SeriesRef(0))
        }
        fn update_metadata(&mut self, _: &str, _: &MetricMetadata) -> Result<(), StorageError> {
            Ok(())
        }
        fn commit(self: Box<Self>) -> Result<(), StorageError> {
            Ok(())
        }
        fn rollback(self: Box<Self>) {}
    }

    impl Appendable for Arc<Rec> {
        fn appender(&self, _: &WriteIdentity) -> Box<dyn Appender> {
            Box::new(RecApp(self.clone()))
        }
    }

    #[test]
    fn pairs_reach_every_store_as_pairs() {
        let a = Arc::new(Rec::default());
        let b = Arc::new(Rec::default());
        let f = Fanout::new(Arc::new(a.clone()), vec![Arc::new(b.clone())]);
        let mut app = f.appender(&WriteIdentity::Local);
        app.append_pairs(&[("__name__", "up")], 1, 1.0)
            .expect("append");
        app.commit().expect("commit");
        for r in [a, b] {
            assert_eq!(*r.0.lock().expect("lock"), ["pairs"]);
        }
    }

    #[test]
    fn histograms_reach_every_store() {
        let a = Arc::new(Rec::default());
        let b = Arc::new(Rec::default());
        let f = Fanout::new(Arc::new(a.clone()), vec![Arc::new(b.clone())]);
        let mut app = f.appender(&WriteIdentity::Local);
        let h = FloatHistogram::default();
        app.append_histogram(&Labels::from_pairs([("__name__", "h")]), 1, &h)
            .expect("append");
        app.commit().expect("commit");
        for r in [a, b] {
            assert_eq!(*r.0.lock().expect("lock"), ["histogram"]);
        }
    }

    #[test]
    fn stores_without_histograms_refuse_them_as_a_sample_error() {
        struct Plain;
        impl Appender for Plain {
            fn append(
                &mut self,
                _: &Labels,
                _: Timestamp,
                _: f64,
            ) -> Result<SeriesRef, StorageError> {
                Ok(SeriesRef(0))
            }
            fn update_metadata(&mut self, _: &str, _: &MetricMetadata) -> Result<(), StorageError> {
                Ok(())
            }
            fn commit(self: Box<Self>) -> Result<(), StorageError> {
                Ok(())
            }
            fn rollback(self: Box<Self>) {}
        }
        let e = Plain
            .append_histogram(
                &Labels::from_pairs([("__name__", "h")]),
                1,
                &FloatHistogram::default(),
            )
            .expect_err("refused");
        assert!(e.is_sample_error());
        assert!(
            e.to_string()
                .contains("native histograms are not supported"),
            "{e}"
        );
    }
}
