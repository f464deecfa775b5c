"""Handlers by feature: each parses the update, calls a service, renders a template, replies."""
