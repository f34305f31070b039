"""The in-process WebSocket side: connections per user, the bridge, per-user emitters."""
