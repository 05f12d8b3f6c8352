"""Slack: renderers of the chat-neutral model (the Bolt app moves here with the split of bot/app.py)."""
