"""Escalation: policies (ordered steps), per-incident escalation state and the engine."""
