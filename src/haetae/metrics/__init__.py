"""Metrics and reviews: MTTD, MTTA, MTTR, MTBF, recurrence, compliance and responder load
(docs/metrics.md), the Prometheus figures, and the weekly and monthly review reports."""
