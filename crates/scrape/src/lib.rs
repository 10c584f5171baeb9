//! Scrape loops: targets, HTTP fetch, parse, relabel, up/scrape_* series, staleness, limits.
