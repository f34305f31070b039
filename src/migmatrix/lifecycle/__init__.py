"""An expectation's life after it is written: compared with the last accepted run, and expired.

- `snapshot`: what a gate expected of every judged (cell, test) and which did not
  pass, written into the JSON report so the next gate can use it as a baseline,
  and read back from one (damaged or foreign baselines refused);
- `compare`: the two-way ratchet, a pure function of two snapshots: loosened
  expectations (a verdict of their own, failing the gate), tightened ones and
  newly passing tests (progress);
- `review`: the gate's last step, which adds the comparison and the expired
  rules (`until:`) to a `GateResult`'s exit code and to every report.
"""
