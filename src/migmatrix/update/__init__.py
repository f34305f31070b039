"""`migmatrix update-expectations`: the smallest edit of matrix.yaml that fits the results.

- `stable`: the part of a failure message a `match:` can rely on;
- `propose`: which rules to add (feature rules first) and which are stale, a pure
  function of the matrix and the merged results;
- `yamledit`: the edit applied to matrix.yaml's text through a round-trip YAML
  library, leaving every line it does not touch as it was;
- `command`: the subcommand (diff by default, `--write`, `--prune`).
"""
