"""Notifications: the outbox, message templates, Apprise delivery and signed action links."""
