"""netra_backend: the reference system whose engine migration the matrix validates."""
