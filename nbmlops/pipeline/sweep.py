"""Parameter sweeps: a grid (or a list of parameter files), run in parallel kernels.

Every combination is checked before any kernel starts, then runs through
:func:`nbmlops.pipeline.runner.execute` in its own kernel (own environment,
IPC sockets: no port collisions) as an MLflow child run under one sweep run.
Paths the parameters cell marks ``# out:`` / ``# metrics:`` are redirected
to one folder per combination, so parallel runs never write the same file.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import time
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nbmlops.config import NbmlopsConfig, load_config
from nbmlops.exceptions import ParameterError, UsageArgumentError
from nbmlops.pipeline import interrupts
from nbmlops.pipeline.notebook import read_notebook
from nbmlops.pipeline.parameters import read_parameters
from nbmlops.pipeline.plan import ExecOptions, Plan, check_tracking, prepare
from nbmlops.pipeline.recorders import Ended, RecorderLike, choose
from nbmlops.pipeline.results import NotebookRunResult, SweepResult
from nbmlops.pipeline.runner import execute
from nbmlops.tracking.context import owner_tags
from nbmlops.tracking.ranking import sweep_metric


@dataclass(frozen=True)
class SweepSpec:
    """One sweep's settings, resolved once by :func:`sweep`."""

    source: Path
    grid: dict[str, list[Any]]
    base: dict[str, Any]
    base_text: dict[str, str]
    jobs: int
    folder: Path
    cwd: str | Path | None
    config: NbmlopsConfig
    options: ExecOptions
    progress: bool
    cluster: Any = None  # a nbmlops.pipeline.cluster.ClusterSpec: combinations run on Dask


def _cell(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def parse_grid(specs: Iterable[str]) -> dict[str, list[str]]:
    """``["C=0.1,1,10", "max_iter=100,300"]`` -> ``{"C": ["0.1", "1", "10"], ...}``.

    Values stay text; they are parsed for each parameter's declared type.
    A value that is a JSON list or object (``layers=[1,2]``) is one value.

    Raises
    ------
    UsageArgumentError
        For a spec without ``=`` or without values.
    """
    grid: dict[str, list[str]] = {}
    for spec in specs:
        name, sep, values = spec.partition("=")
        name = name.strip()
        if not sep or not name or not values.strip():
            raise UsageArgumentError(f"--grid {spec!r} must look like NAME=V1,V2,...",
                                     parameter=name or spec)
        stripped = values.strip()
        grid[name] = [stripped] if stripped[0] in "[{" else [v.strip() for v in values.split(",")]
    return grid


def combinations(grid: dict[str, list[Any]] | None,
                 param_sets: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Every grid point for every parameter set (in a stable order)."""
    grid = grid or {}
    names = list(grid)
    points = [dict(zip(names, values, strict=True))
              for values in itertools.product(*(grid[n] for n in names))]
    return [{**ps, **point} for ps in (param_sets or [{}]) for point in points]


def sweep(
    notebook: str | Path,
    grid: dict[str, list[Any]] | None = None,
    *,
    param_sets: list[dict[str, Any]] | None = None,
    base: dict[str, Any] | None = None,
    base_text: dict[str, str] | None = None,
    jobs: int = 1,
    metric: str | None = None,
    mode: str = "max",
    out_dir: str | Path | None = None,
    cwd: str | Path | None = None,
    timeout: float | None = None,
    kernel_name: str | None = None,
    config: NbmlopsConfig | None = None,
    experiment: str | None = None,
    progress: bool = True,
    cluster: Any = None,
    retries: int = 1,
) -> SweepResult:
    """Run ``notebook`` for every combination, ``jobs`` kernels at a time.

    Parameters
    ----------
    notebook
        The source notebook.
    grid
        Name -> values; every combination runs. Text values are parsed for
        the declared type (``"0.1"`` -> 0.1 for a ``float``).
    param_sets
        Parameter dicts (e.g. from YAML files); each is combined with the grid.
    base, base_text
        Values shared by every combination (typed / command-line text).
    jobs
        Combinations run in parallel.
    metric, mode
        The metric that picks the best run and whether larger (``max``) or
        smaller (``min``) is better.
    out_dir
        Folder with one sub-folder per combination (default
        ``outputs/sweeps/<stem>-<YYYYmmdd-HHMMSS>``).
    cwd, timeout, kernel_name, config, experiment
        As for :func:`nbmlops.pipeline.runner.run_notebook`.
    progress
        Show a tqdm progress bar.
    cluster, retries
        Run each combination as a task on a Dask cluster: a ``distributed.Client``
        or a scheduler address; ``out_dir`` may then be an fsspec URL. A combination
        whose worker died is submitted again up to ``retries`` times (see
        :mod:`nbmlops.pipeline.cluster`).

    Returns
    -------
    SweepResult
        One :class:`~nbmlops.pipeline.results.NotebookRunResult` per combination;
        check :attr:`SweepResult.exit_code`.

    Raises
    ------
    ParameterError
        When any combination has an unknown or ill-typed value (before any run).
    """
    if jobs < 1:
        raise UsageArgumentError(f"jobs must be at least 1, got {jobs}.", parameter="jobs")
    if mode not in {"max", "min"}:
        raise UsageArgumentError(f"mode must be 'max' or 'min', got {mode!r}.", parameter="mode")
    t0 = time.perf_counter()
    config = config or load_config()
    metric, mode = sweep_metric(metric, mode, config.primary_metric)  # the primary_metric setting
    check_tracking(config)
    source = Path(notebook)
    combos = combinations(grid, param_sets)
    if not combos or (not grid and not param_sets):
        raise UsageArgumentError("A sweep needs --grid NAME=V1,V2 or --params-files.",
                                 parameter="grid")
    if cluster is not None:  # connect first: an unreachable scheduler is bad input
        from nbmlops.pipeline.cluster import connect
        cluster, out_dir = connect(cluster, out_dir, retries)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    folder = Path(out_dir) if out_dir else config.project_root / "outputs" / "sweeps" / (
        f"{source.stem}-{stamp}")
    spec = SweepSpec(source, grid or {}, base or {}, base_text or {}, jobs, folder.resolve(),
                     cwd, config,
                     ExecOptions(timeout=timeout, kernel_name=kernel_name, experiment=experiment),
                     progress, cluster)
    plans = [_plan(spec, i, combo) for i, combo in enumerate(combos)]
    varying = _varying(plans, combos)
    # MLflow loads in a helper process (unless loaded here already) while kernels boot
    recorder = choose(config, experiment)
    try:
        runs, parent = _run_sweep(spec, plans, combos, varying, recorder)
        result = SweepResult(str(source), runs, combos, metric, mode, parent,
                             (cluster and cluster.remote_dir) or str(spec.folder),
                             time.perf_counter() - t0, varying)
        _finish_parent(recorder, result)
    finally:
        recorder.close()
    return result


def _varying(plans: list[Plan], combos: list[dict[str, Any]]) -> list[str]:
    """Parameters whose value differs between combinations (and that a combination sets)."""
    varying = [k for k in plans[0].effective if len({json.dumps(p.effective[k], sort_keys=True)
                                                     for p in plans}) > 1]
    return [k for k in varying if k in set().union(*combos)]


def _run_sweep(spec: SweepSpec, plans: list[Plan], combos: list[dict[str, Any]],
               varying: list[str], recorder: RecorderLike) -> tuple[list[NotebookRunResult], str]:
    """Run every plan as a child of the sweep run; the results and the sweep run id."""

    def open_parent() -> str:
        return recorder.begin(f"sweep {spec.source.stem}", {
            "nbmlops.kind": "sweep", "mlflow.source.name": str(spec.source.resolve()),
            "nbmlops.sweep.out_dir": str(spec.folder), **owner_tags("sweep")}, None,
            {"sweep.grid": spec.grid, "sweep.combinations": len(combos),
             "sweep.jobs": spec.jobs})

    # the sweep run is created (waiting on the helper) while the first kernels boot
    with ThreadPoolExecutor(1) as opener:
        lazy = SweepRecorder(recorder, opener.submit(open_parent))
        if spec.cluster is not None:  # each combination a Dask task; cluster.run_all ends
            from nbmlops.pipeline.cluster import run_all  # them and the sweep run on Ctrl-C

            runs = run_all(spec, plans, varying, lazy)
        else:
            with interrupts.handling():  # Ctrl-C: launch nothing more, stop kernels, all KILLED
                try:
                    runs = _run_all(spec, plans, varying, lazy)
                except BaseException as exc:
                    interrupts.kill_parent(lazy, exc)
                    raise
    return runs, lazy.parent_run_id()


class SweepRecorder:
    """The sweep's recorder once the sweep run exists; child runs nest under it."""

    sets_parent_env = False

    def __init__(self, recorder: RecorderLike, opening: Future[str]) -> None:
        self._recorder = recorder
        self._opening = opening

    def parent_run_id(self) -> str:
        """The sweep run id (waits until the run exists)."""
        return self._opening.result()

    @property
    def experiment_id(self) -> str | None:
        """The MLflow experiment id."""
        self.parent_run_id()
        return self._recorder.experiment_id

    def begin(self, name: str, tags: dict[str, str], parent_run_id: str | None,
              params: dict[str, Any]) -> str:
        """Start a child run of the sweep run."""
        parent = self.parent_run_id()
        return self._recorder.begin(name, tags, parent_run_id or parent, params)

    def end(self, run_id: str, status: str, metrics_path: str | None, artifacts: list[str],
            tags: dict[str, str]) -> Ended:
        """As :meth:`~nbmlops.pipeline.recorders.RecorderLike.end`."""
        self.parent_run_id()
        return self._recorder.end(run_id, status, metrics_path, artifacts, tags)

    def finish(self, run_id: str, status: str, metrics: dict[str, float],
               tags: dict[str, str]) -> None:
        """As :meth:`~nbmlops.pipeline.recorders.RecorderLike.finish`."""
        self.parent_run_id()
        self._recorder.finish(run_id, status, metrics, tags)

    def kill(self, run_id: str, tags: dict[str, str]) -> list[str]:
        """As :meth:`~nbmlops.pipeline.recorders.RecorderLike.kill`."""
        self.parent_run_id()
        return self._recorder.kill(run_id, tags)

    def close(self) -> None:
        """Nothing to release: :func:`sweep` closes the recorder it chose."""


def _plan(spec: SweepSpec, i: int, combo: dict[str, Any]) -> Plan:
    source = spec.source
    given = {**spec.base, **spec.base_text, **combo}
    text = set(spec.base_text) | {k for k, v in combo.items() if isinstance(v, str)}
    sub = spec.folder / f"{i:03d}"
    declared = read_parameters(read_notebook(source.resolve()), where=str(source))
    for p in declared.parameters.values():  # each combination writes its own files
        if p.role in {"out", "metrics"} and isinstance(p.default, str) and p.name not in combo:
            given[p.name] = str(sub / Path(p.default).name)
            text.add(p.name)
    try:
        return prepare(source, given, text=text, output=sub / f"{source.stem}.ipynb",
                       cwd=spec.cwd, kernel_name=spec.options.kernel_name, config=spec.config)
    except ParameterError as exc:
        raise ParameterError(f"Combination {i} {json.dumps(combo)}: {exc}",
                             **exc.context) from None


def _run_all(spec: SweepSpec, plans: list[Plan], varying: list[str],
             recorder: RecorderLike) -> list[NotebookRunResult]:
    from tqdm.auto import tqdm

    stem = spec.source.stem
    results: list[NotebookRunResult | None] = [None] * len(plans)

    def one(i: int) -> NotebookRunResult:
        label = ",".join(f"{k}={_cell(plans[i].effective[k])}" for k in varying)
        options = dataclasses.replace(spec.options, run_name=f"{stem}[{label}]",
                                      tags={"nbmlops.sweep.index": str(i)})
        try:
            return execute(plans[i], options, recorder=recorder, recording=writer)
        except Exception as exc:  # one combination must not stop the others
            return _failed(plans[i], exc)

    # MLflow records are written one at a time on their own thread while the next
    # combinations already run
    with ThreadPoolExecutor(1) as writer, ThreadPoolExecutor(max_workers=spec.jobs) as pool, \
            tqdm(total=len(plans), desc=f"sweep {stem}", unit="run",
                 disable=not spec.progress) as bar:
        futures = {pool.submit(one, i): i for i in range(len(plans))}
        stop_launching = interrupts.on_interrupt(lambda: [f.cancel() for f in futures])
        failed = 0
        for future in as_completed(futures):
            if future.cancelled():
                continue
            result = results[futures[future]] = future.result()
            failed += not result.ok
            bar.set_postfix(failed=failed)
            bar.update()
    stop_launching()
    interrupts.check()
    return [_recorded(plan, result) for plan, result in zip(plans, results, strict=True)
            if result is not None]


def _failed(plan: Plan, exc: BaseException) -> NotebookRunResult:
    return NotebookRunResult(str(plan.source), str(plan.output), "failed", plan.effective,
                             error=f"{type(exc).__name__}: {exc}")


def _recorded(plan: Plan, result: NotebookRunResult) -> NotebookRunResult:
    """``result`` once its MLflow record is written (a failed one if writing failed)."""
    pending, result.pending = result.pending, None
    if pending is not None:
        try:
            pending.result()
        except Exception as exc:
            return _failed(plan, exc)
    return result


def _finish_parent(recorder: RecorderLike, result: SweepResult) -> None:
    assert result.run_id is not None
    best = result.best
    tags = {"nbmlops.sweep.failed": str(len(result.failed))}
    metrics: dict[str, float] = {}
    if best is not None and result.metric:
        metrics[f"best_{result.metric}"] = best.metrics[result.metric]
        tags["nbmlops.sweep.best_run_id"] = best.run_id or ""
    recorder.finish(result.run_id, "FAILED" if result.failed else "FINISHED", metrics, tags)
