"""Environments of adapter states (issue 15): what each installs, and checks that it did.

An adapter that declares `requirements`, `requirements_file`, `ref` or `env` runs
its states in an environment of their own: one per (Python, state), made with uv
by the nox sessions (`migmatrix.noxapi`) and reused while its spec is unchanged.
Every other adapter runs in-process in the interpreter's default environment,
named `DEFAULT`. `spec` says what each environment is, from the matrix alone;
`git` checks a ref out once per commit; `install` installs and checks the pins.
"""
