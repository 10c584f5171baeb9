//! A runner for Prometheus's PromQL test scripts (`promqltest` format).
