"""Phase suite: golden_path."""
