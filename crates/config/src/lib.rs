//! Prometheus YAML configuration (plus Fleetwatch's fleet section): types, loading with file:line errors, validation.
