"""The listeners, one module per kind of interaction, each with `register(app, bot)`."""
