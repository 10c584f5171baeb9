//! The embedded time-series database: head, write-ahead log.
