"""The public status page: components, public incidents, maintenance, feeds, subscribers."""
