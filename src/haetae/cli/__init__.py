"""The `haetae` command line."""
