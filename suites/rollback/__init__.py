"""Phase suite: rollback."""
