"""Persistence: threads, messages, runs and events in SQLite."""
