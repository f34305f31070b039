"""The gate's reports: one module per format, all drawn from one judged `GateResult`.

`summary` holds what every report counts and words the same way (cell summaries,
the per-Python matrix tables, totals, the unexpected items, status and rule words,
outcome words and message excerpts). `migration_map` decides the map every report
opens with (a mark per adapter state, phase and env; Pythons grouped by pattern)
and `groups` the unexpected items by cause; `html_map` draws the map as the HTML
page's main grid. The formats: `terminal` (the console summary), `markdown` (gate.md and
the GitHub step summary), `json_` (gate.json), `junit` (junit.xml) and `html_`
(the self-contained gate.html, with its script and style in `html_assets/`).
The two trailing underscores keep the standard library's `json` and `html`,
which these modules import, unshadowed.
"""

from __future__ import annotations
