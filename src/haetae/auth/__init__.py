"""Users, API keys, passwords and login tokens."""
