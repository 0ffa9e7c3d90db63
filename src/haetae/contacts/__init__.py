"""External contacts and manual escalation ("page now")."""
