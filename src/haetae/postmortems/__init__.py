"""Post-mortems: drafted from the incident's record, written blamelessly, reviewed, published."""
