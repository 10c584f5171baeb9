//! Fan-out: one appender that writes every sample to a primary store and to secondaries
//! (for example the TSDB and a remote-write-out sink).

use std::sync::Arc;

use model::{Labels, MetricMetadata, SeriesRef, Timestamp};

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
