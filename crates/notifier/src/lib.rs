//! Delivery of alerts to Alertmanager.
