"""Part of netra_backend."""
