"""Incidents: declare, classify, work through the lifecycle, resolve."""
