"""People: contact methods, notification rules, teams and the services they own."""
