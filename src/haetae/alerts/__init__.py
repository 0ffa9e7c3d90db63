"""Alert ingestion: integrations, alerts, routing and their incidents."""
