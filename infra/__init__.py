"""Plumbing: settings, databases, the event store, the command line."""
