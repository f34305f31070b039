"""Phase suites: one folder per phase, engine-agnostic; they reach netra_backend through `sut`."""
