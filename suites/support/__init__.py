"""The seed's section 8 test utilities, made real: import scanning, contamination checks, event monitors."""
