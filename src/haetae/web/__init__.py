"""The web console: Jinja2 pages with HTMX, English and Korean."""
