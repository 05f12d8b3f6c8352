"""Chat-neutral behaviour: what Seen says and asks, whatever the platform shows it with."""
