"""Microsoft Teams: the Teams SDK app, the Adaptive Card renderer, the messenger and the app package."""
