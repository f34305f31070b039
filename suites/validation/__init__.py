"""Phase suite: validation."""
