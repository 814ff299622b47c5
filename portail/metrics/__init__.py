"""Prometheus metrics: request latency by view, counters read from the journal, outbox and database
figures read at scrape time, behind a token or an internal address (docs/deploy.md, "Metrics")."""
