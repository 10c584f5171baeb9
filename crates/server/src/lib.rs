//! The hub's HTTP API: Prometheus API v1, remote-write endpoint, health, metrics.
