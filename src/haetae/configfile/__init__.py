"""Config as code: one YAML file of people, teams, schedules, escalation policies, services,
integrations and routing rules (`haetae apply`, `haetae export`)."""
