"""The incident timeline: every change, with actor and time."""
