"""Commands beyond the engine's own (`evaluate`, `explain`): registered with the CLI here."""
