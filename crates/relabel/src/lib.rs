//! Prometheus relabel_config semantics, exactly.
