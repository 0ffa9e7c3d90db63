"""The case library: searching past incidents and post-mortems, similar incidents, recurrences."""
