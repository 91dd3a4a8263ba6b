"""Sweeps on a Dask cluster: one ``distributed`` task per combination.

:func:`nbmlops.sweep` with ``cluster=`` (``nbmlops sweep --cluster``) checks
every combination here, creates the sweep run here, then submits each
combination's :class:`~nbmlops.pipeline.plan.Plan` as a task that calls
:func:`~nbmlops.pipeline.runner.execute` on a worker, the code path of a
local sweep: same child runs, parameters, metrics, tags and exit codes.

- A worker that dies mid-combination surfaces as :class:`distributed.KilledWorker`
  (set the scheduler's ``distributed.scheduler.allowed-failures`` to 0 so
  nbmlops decides): the combination is resubmitted up to ``retries`` times,
  then reported as ``kernel_died`` (exit code 3); the run left RUNNING by the
  dead attempt is marked KILLED; the other combinations go on.
- Ctrl-C interrupts the combinations that are running (their runs end
  KILLED, as in a local run), cancels the queued ones, and re-raises.
- Outputs go to ``out_dir``; a URL (``s3://bucket/sweeps/x``, any fsspec
  protocol) is written by each worker once its combination ends.

``distributed`` is imported only here, and only when a sweep uses a cluster.
"""

from __future__ import annotations

import ctypes
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from nbmlops.config import NbmlopsConfig
from nbmlops.exceptions import MissingDependencyError, UsageArgumentError
from nbmlops.pipeline.plan import ExecOptions, Plan
from nbmlops.pipeline.recorders import RecorderLike, choose
from nbmlops.pipeline.results import NotebookRunResult
from nbmlops.pipeline.runner import execute

#: seconds Ctrl-C waits for interrupted combinations to record their KILLED runs
CANCEL_GRACE_S = 60.0


@dataclass
class ClusterSpec:
    """Where a sweep's combinations run: a ``distributed.Client`` and the options.

    Attributes
    ----------
    client
        The connected client.
    owned
        Whether the sweep opened the client (and closes it at the end).
    retries
        Times a combination whose worker died is submitted again.
    remote_dir
        fsspec URL the combinations' folders are copied to (``None``: ``out_dir`` is local).
    timings
        ``(submitted, started, ended, received)`` wall-clock times per finished task
        (filled by :func:`run_all`; the cluster benchmark reads them).
    """

    client: Any
    owned: bool = False
    retries: int = 1
    remote_dir: str | None = None
    timings: list[tuple[float, float, float, float]] = field(default_factory=list)

    @property
    def address(self) -> str:
        """The scheduler's address."""
        return str(self.client.scheduler.address)

    def close(self) -> None:
        """Close the client when the sweep opened it."""
        if self.owned:
            self.client.close()


def is_url(path: str | Path | None) -> bool:
    """True for ``proto://...`` (an fsspec URL) rather than a local path."""
    return path is not None and "://" in str(path)


def connect(cluster: Any, out_dir: str | Path | None,
            retries: int = 1) -> tuple[ClusterSpec, str | Path | None]:
    """The cluster of a sweep, and the local folder its combinations write to.

    Parameters
    ----------
    cluster
        A ``distributed.Client``, a scheduler address (``tcp://host:8786``), or a
        :class:`ClusterSpec` (used as it is).
    out_dir
        The sweep's ``out_dir``; an fsspec URL is kept in the returned spec and
        replaced by ``None`` (the default local folder, copied to the URL).
    retries
        Times a combination whose worker died is submitted again.

    Raises
    ------
    MissingDependencyError
        When ``distributed`` is not installed.
    UsageArgumentError
        When the scheduler does not answer, or ``retries`` is negative (exit 2).
    """
    if retries < 0:
        raise UsageArgumentError(f"retries must be 0 or more, got {retries}.",
                                 parameter="retries")
    try:
        import distributed
    except ImportError:
        raise MissingDependencyError(
            "Sweeps on a Dask cluster need distributed: pip install 'nbmlops[dask]'.",
            package="distributed") from None
    remote = str(out_dir) if is_url(out_dir) else None
    local = None if remote else out_dir
    if isinstance(cluster, ClusterSpec):
        return replace(cluster, remote_dir=remote), local
    if isinstance(cluster, distributed.Client):
        return ClusterSpec(cluster, False, retries, remote), local
    try:
        client = distributed.Client(str(cluster), timeout="10s", set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise UsageArgumentError(
            f"The Dask scheduler {cluster} does not answer ({exc}); start it or check "
            "--cluster. Nothing was run.", parameter="cluster") from None
    return ClusterSpec(client, True, retries, remote), local


# ---------------------------------------------------------------- on a worker

_RECORDERS: dict[str, RecorderLike] = {}
_RECORDERS_LOCK = threading.Lock()
#: writes a worker's MLflow records one at a time while its next combination runs
_WRITER = ThreadPoolExecutor(1, thread_name_prefix="nbmlops-record")


class Cancelled(BaseException):
    """Raised inside a running combination's thread when the sweep is cancelled."""


def _recorder(config: NbmlopsConfig, experiment: str | None) -> RecorderLike:
    """One recorder per worker process (a helper process, as in a local sweep)."""
    key = json.dumps([config.to_dict(), experiment], sort_keys=True, default=str)
    with _RECORDERS_LOCK:
        if key not in _RECORDERS:
            _RECORDERS[key] = choose(config, experiment)
        return _RECORDERS[key]


def run_combination(plan: Plan, options: ExecOptions,
                    remote: str | None) -> tuple[NotebookRunResult, float, float]:
    """The task of one combination (runs on a worker).

    Returns
    -------
    tuple
        The result (its MLflow record written), and the task's start and end
        wall-clock times.
    """
    started = time.time()
    for path in (plan.output, plan.metrics_path):  # the worker may not share our disk
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
    recorder = _recorder(plan.config, options.experiment)
    try:
        result = execute(plan, options, recorder=recorder, recording=_WRITER)
    except Cancelled:  # execute ended the run KILLED
        result = NotebookRunResult(str(plan.source), str(plan.output), "kernel_died",
                                   plan.effective, error="Cancelled (Ctrl-C) while running.")
    result = _recorded(plan, result)
    result.experiment_id = result.experiment_id or recorder.experiment_id
    if remote is not None:
        result.output_notebook = _upload(plan.output.parent, remote)
        result.output_notebook += "/" + plan.output.name
    return result, started, time.time()


def _recorded(plan: Plan, result: NotebookRunResult) -> NotebookRunResult:
    """``result`` once its MLflow record is written (a failed one if writing failed).

    As in a local sweep, the worker's next combination starts meanwhile: this
    task leaves the worker's thread pool while it waits for the record.
    """
    pending, result.pending = result.pending, None
    if pending is None:
        return result
    from distributed import secede

    secede()
    try:
        pending.result()
    except Cancelled:  # Ctrl-C while the record is written: it is written all the same
        pass
    except Exception as exc:
        return NotebookRunResult(str(plan.source), str(plan.output), "failed", plan.effective,
                                 error=f"{type(exc).__name__}: {exc}")
    return result


def _upload(folder: Path, remote: str) -> str:
    """Copy ``folder`` to ``remote/<folder name>``; that URL."""
    import fsspec

    target = f"{remote.rstrip('/')}/{folder.name}"
    fs, root = fsspec.core.url_to_fs(target)
    fs.put(str(folder), root, recursive=True)
    return target


def interrupt(keys: list[str], dask_worker: Any = None) -> list[str]:
    """Raise :class:`Cancelled` in the worker threads running ``keys`` (``client.run``)."""
    hit = []
    with dask_worker.active_threads_lock:
        running = dict(dask_worker.active_threads)
    for ident, key in running.items():
        if key in keys:
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident),
                                                       ctypes.py_object(Cancelled))
            hit.append(key)
    return hit


# ---------------------------------------------------------------- on the client

@dataclass
class _Sweep:
    """The state of one cluster sweep while it runs."""

    spec: Any  # the nbmlops.pipeline.sweep.SweepSpec (not imported: no import cycle)
    cluster: ClusterSpec
    plans: list[Plan]
    options: list[ExecOptions]
    token: str
    futures: dict[Any, int] = field(default_factory=dict)
    attempts: list[int] = field(default_factory=list)
    submitted: dict[Any, float] = field(default_factory=dict)

    def submit(self, i: int) -> Any:
        """Submit combination ``i`` (again); its future."""
        self.attempts[i] += 1
        key = f"nbmlops-sweep-{self.token}-{i:04d}-{self.attempts[i]}"
        future = self.cluster.client.submit(
            run_combination, self.plans[i], self.options[i], self.cluster.remote_dir,
            key=key, pure=False)
        self.futures[future] = i
        self.submitted[future] = time.time()
        return future


def run_all(spec: Any, plans: list[Plan], varying: list[str],
            recorder: Any) -> list[NotebookRunResult]:
    """Run every plan as a Dask task; the results in plan order (the sweep's hook).

    ``recorder`` is the sweep's :class:`~nbmlops.pipeline.sweep.SweepRecorder`;
    the sweep run is its parent run.
    """
    import uuid

    from distributed import as_completed
    from tqdm.auto import tqdm

    cluster: ClusterSpec = spec.cluster
    parent = recorder.parent_run_id()
    state = _Sweep(spec, cluster, plans, [_options(spec, p, i, varying, parent)
                                          for i, p in enumerate(plans)],
                   uuid.uuid4().hex[:8], attempts=[0] * len(plans))
    results: list[NotebookRunResult | None] = [None] * len(plans)
    workers = set(cluster.client.nthreads())  # every worker (scheduler_info may cap)
    try:
        with tqdm(total=len(plans), desc=f"sweep {spec.source.stem}", unit="run",
                  disable=not spec.progress) as bar:
            done = as_completed([state.submit(i) for i in range(len(plans))],
                                loop=cluster.client.loop)
            failed = 0
            for future in done:
                i = state.futures.pop(future)
                result = _outcome(state, future, i)
                if result is None:  # its worker died: once more
                    done.add(state.submit(i))
                    continue
                results[i] = result
                failed += not result.ok
                bar.set_postfix(failed=failed)
                bar.update()
        lost = workers - set(cluster.client.nthreads())
        if lost or sum(state.attempts) > len(plans) or any(
                r is not None and r.run_id is None for r in results):
            _end_stale(spec, recorder, parent, results, "kernel_died")
    except KeyboardInterrupt:
        _cancel(state, recorder, parent, results)
        raise
    finally:
        cluster.close()
    return [r for r in results if r is not None]


def _options(spec: Any, plan: Plan, i: int, varying: list[str],
             parent: str) -> ExecOptions:
    """Combination ``i``'s options: as in a local sweep, with the sweep run as parent."""
    label = ",".join(f"{k}={_text(plan.effective[k])}" for k in varying)
    return replace(spec.options, run_name=f"{spec.source.stem}[{label}]",
                   tags={"nbmlops.sweep.index": str(i)}, parent_run_id=parent)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _outcome(state: _Sweep, future: Any, i: int) -> NotebookRunResult | None:
    """The result of a finished task (``None``: its worker died, submit it again)."""
    from distributed import KilledWorker

    plan = state.plans[i]
    if future.status == "finished":
        result, started, ended = future.result()
        state.cluster.timings.append((state.submitted[future], started, ended, time.time()))
        return result
    exc = future.exception()
    if isinstance(exc, KilledWorker):
        if state.attempts[i] <= state.cluster.retries:
            return None
        n = state.attempts[i]
        return NotebookRunResult(
            str(plan.source), str(plan.output), "kernel_died", plan.effective,
            error=f"The Dask worker running it died ({n} attempt{'s' * (n > 1)}): {exc}")
    return NotebookRunResult(str(plan.source), str(plan.output), "failed", plan.effective,
                             error=f"{type(exc).__name__}: {exc}")


def _end_stale(spec: Any, recorder: Any, parent: str,
               results: list[NotebookRunResult | None], status: str) -> None:
    """End KILLED the child runs still RUNNING (their worker died or was interrupted).

    A result without a run id gets the id of its combination's last such run.
    """
    from nbmlops.mlflow_gateway import client_for

    client = client_for(spec.config.tracking_uri)
    stale = client.search_runs(
        [recorder.experiment_id],
        filter_string=f"tags.mlflow.parentRunId = '{parent}' and attributes.status = 'RUNNING'",
        order_by=["attributes.start_time ASC"])
    for run in stale:
        index = int(run.data.tags.get("nbmlops.sweep.index", -1))
        result = results[index] if 0 <= index < len(results) else None
        error = (result.error if result is not None and not result.ok else None) or (
            "Its Dask worker died; another attempt ran it.")
        tags = {"nbmlops.status": status, "nbmlops.exit_code": "3", "nbmlops.error": error}
        recorder.finish(run.info.run_id, "KILLED", {}, tags)
        if result is not None and not result.ok:
            result.run_id = str(run.info.run_id)
            result.experiment_id = recorder.experiment_id


def _cancel(state: _Sweep, recorder: Any, parent: str,
            results: list[NotebookRunResult | None]) -> None:
    """Ctrl-C: interrupt running combinations, cancel queued ones, end their runs KILLED."""
    client = state.cluster.client
    pending = list(state.futures)
    keys = [f.key for f in pending]
    hit = {k for ks in client.run(interrupt, keys).values() for k in ks}
    client.cancel([f for f in pending if f.key not in hit])
    running = [f for f in pending if f.key in hit]
    deadline = time.monotonic() + CANCEL_GRACE_S
    # each records its run KILLED, as a local run does on Ctrl-C (else ended KILLED below)
    while not all(f.done() for f in running) and time.monotonic() < deadline:
        time.sleep(0.1)
    for future in pending:
        i = state.futures[future]
        results[i] = NotebookRunResult(
            str(state.plans[i].source), str(state.plans[i].output), "kernel_died",
            state.plans[i].effective, error="Cancelled (Ctrl-C).")
    _end_stale(state.spec, recorder, parent, results, "cancelled")
    recorder.finish(parent, "KILLED", {}, {"nbmlops.sweep.cancelled": str(len(pending))})

