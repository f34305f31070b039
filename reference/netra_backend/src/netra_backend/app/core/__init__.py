"""Process-wide concerns: the migration state and resetting shared state."""
