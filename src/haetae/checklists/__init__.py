"""Role checklists on incidents, and reminders about required roles left empty."""
