"""Phase suite: websocket."""
