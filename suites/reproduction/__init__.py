"""Phase suite: reproduction."""
