"""`migmatrix mutate`: how many faults in the target code would the matrix catch?

The steps follow the harness's own data flow: `mutants` makes the mutants of each
target file with cosmic-ray's operators; `reach` reads the per-cell coverage
contexts of a baseline run and says which cells reached a mutated line; `workspace`
makes the scratch copies of the project the runs happen in; `runner` runs the
baseline and each mutant's cells there and judges them with the gate; `report`
writes the score per file and the survivors as JSON and Markdown; `command` is the
subcommand's argument handling.
"""
