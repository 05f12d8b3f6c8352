"""Slack: the Bolt app, Block Kit views and renderer, the Slack messenger, Socket Mode and HTTP."""
