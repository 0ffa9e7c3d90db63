"""Diagnostics Haetae runs itself (HTTP, TCP, DNS, TLS expiry, Prometheus), within an
allow-list, and the first analysis."""
