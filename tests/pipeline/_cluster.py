"""The Dask cluster the cluster tests and ``bench_cluster.py`` sweep on."""

from __future__ import annotations

from typing import Any


def local_cluster() -> tuple[Any, Any]:
    """A 2-process ``LocalCluster`` on 127.0.0.1 and a client of it (not the default one).

    Dask retries no task on a dead worker (``allowed-failures: 0``) and hands a
    worker one task at a time: nbmlops, not Dask, decides about lost combinations.
    """
    import dask
    import distributed

    with dask.config.set({"distributed.scheduler.allowed-failures": 0,
                          "distributed.scheduler.worker-saturation": 1.0}):
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                           host="127.0.0.1", dashboard_address=None)
    return cluster, distributed.Client(cluster, set_as_default=False)
