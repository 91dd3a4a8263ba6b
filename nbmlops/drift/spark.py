"""Summaries computed by Spark, merged on the driver.

Each partition is reduced with the same
:class:`~nbmlops.drift.accumulator.Accumulator` as pandas batches (via
``mapInPandas``), and only the small summaries travel back to the driver,
where they are merged. Time windows work (window ids are global); row-count
windows need a global row order and are refused.

Spark converts timestamps to the session time zone; set
``spark.sql.session.timeZone=UTC`` for windows that start at UTC midnight.
"""

from __future__ import annotations

import base64
import pickle
from typing import Any

from nbmlops.drift.accumulator import Accumulator
from nbmlops.exceptions import UsageArgumentError


def summarise_spark(acc: Any, sdf: Any) -> None:
    """Summarise Spark DataFrame ``sdf`` into accumulator ``acc`` (partition-parallel)."""
    import pandas as pd

    if acc.spec is not None and acc.spec[0] == "rows":
        raise UsageArgumentError("Row-count windows need a row order; use a time window with "
                                 "Spark DataFrames.", parameter="window")
    acc.check_columns(pd.DataFrame(columns=list(sdf.columns)))
    wanted = [c for c in acc.profile.columns if c in sdf.columns and c not in acc.errors]
    if acc.time_column and acc.time_column not in wanted:
        wanted.append(acc.time_column)
    profile, time_column, window = acc.profile, acc.time_column, acc.window

    def reduce_partition(batches: Any) -> Any:
        part = Accumulator(profile, time_column, window)
        part.seen_columns = True
        for pdf in batches:
            part.add(pdf)
        blob = pickle.dumps((part.wins, part.rows, part.errors))
        yield pd.DataFrame({"state": [base64.b64encode(blob).decode("ascii")]})

    rows = sdf.select(*wanted).mapInPandas(reduce_partition, schema="state string").collect()
    for row in rows:
        wins, n, errors = pickle.loads(base64.b64decode(row["state"]))
        acc.merge_state(wins, n, errors)
