"""netra_backend: the reference system whose ExecutionEngine -> UserExecutionEngine migration the matrix validates."""
