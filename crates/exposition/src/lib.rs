//! Prometheus text 0.0.4 and OpenMetrics 1.0 exposition: streaming zero-copy parsing and writing.
