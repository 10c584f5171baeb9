//! Go `text/template` as Prometheus's rule templates use it (labels and
//! annotations of alerting rules).
