"""Stakeholder communication: templates, channels, automatic messages, approvals, follows."""
