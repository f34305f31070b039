"""Adapters: one module per migration state of netra_backend.

Each module exposes `adapter`, the object matrix.yaml names (`adapters.ssot:adapter`).
The harness never calls it; the suites' conftest opens it per test
(`cell.adapter_object.open(cell)`) and hands the suites the resulting
`SystemUnderTest`. The shared machinery lives in `adapters.base`.
"""
