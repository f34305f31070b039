"""Phase suite: staging."""
