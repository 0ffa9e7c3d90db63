"""Action items (AI-NNN) and the follow-up board they move on (seed 001 6.6 and App. C)."""
