"""migmatrix: a test matrix that proves a code migration is safe.

It runs phase suites across migration states (adapters), environments and Python
versions, and gates on the expected pass/fail pattern of every cell rather than on
"all green". See the README for the commands and DESIGN notes in docs/.
"""

__version__ = "0.1.0"
