"""Benchmarks are scripts (``python tests/benchmarks/<name>.py``), not tests.

They print figures and a peer ratio as their last line; pytest must not
collect them (they are slow and never fail on time).
"""

collect_ignore_glob = ["*.py"]
