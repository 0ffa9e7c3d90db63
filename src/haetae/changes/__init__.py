"""The change feed: deploys and configuration changes, and the ones an incident suspects."""
