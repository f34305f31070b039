"""pytest plugin entry point (placeholder until the run side lands): inert without --matrix."""
