"""Runbooks: Markdown files with YAML front matter, matched to incidents and worked step by step."""
