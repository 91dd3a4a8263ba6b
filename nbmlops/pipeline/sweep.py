"""Parameter sweeps: a grid (or a list of parameter files), run in parallel kernels.

Every combination is checked before any kernel starts, then runs through
:func:`nbmlops.pipeline.runner.execute` in its own kernel (own environment,
IPC sockets: no port collisions) as an MLflow child run under one sweep run.
Paths the parameters cell marks ``# out:`` / ``# metrics:`` are redirected
to one folder per combination, so parallel runs never write the same file.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbmlops.config import NbmlopsConfig, load_config
from nbmlops.exceptions import ParameterError, UsageArgumentError
from nbmlops.pipeline.runner import Plan, RunResult, check_tracking, execute, prepare


@dataclass
class SweepResult:
    """All combinations of a sweep, and the best one by ``metric``."""

    notebook: str
    runs: list[RunResult]
    combos: list[dict[str, Any]]
    metric: str | None = None
    mode: str = "max"
    run_id: str | None = None
    out_dir: str = ""
    duration_s: float = 0.0
    varying: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[RunResult]:
        """Runs that did not finish."""
        return [r for r in self.runs if not r.ok]

    @property
    def exit_code(self) -> int:
        """0 when every combination succeeded, else the worst exit code (1 or 3)."""
        return max((r.exit_code for r in self.runs), default=0)

    @property
    def best(self) -> RunResult | None:
        """The successful run with the best ``metric`` (``None`` without one)."""
        scored = [r for r in self.runs if r.ok and self.metric in r.metrics]
        if not scored:
            return None
        pick = max if self.mode == "max" else min
        return pick(scored, key=lambda r: r.metrics[self.metric])  # type: ignore[index]

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict view (``nbmlops sweep --json``)."""
        best = self.best
        return {
            "notebook": self.notebook, "run_id": self.run_id, "metric": self.metric,
            "mode": self.mode, "exit_code": self.exit_code, "out_dir": self.out_dir,
            "best_run_id": best.run_id if best else None,
            "best_parameters": {k: best.parameters[k] for k in self.varying} if best else None,
            "runs": [{**r.to_dict(), "combination": c} for r, c in zip(self.runs, self.combos,
                                                                         strict=True)],
            "duration_s": round(self.duration_s, 3),
        }

    def table(self) -> str:
        """A text summary table, best run marked with ``*``."""
        best = self.best
        metrics = sorted({k for r in self.runs for k in r.metrics})
        if self.metric and self.metric in metrics:
            metrics.remove(self.metric)
            metrics.insert(0, self.metric)
        metrics = metrics[:4]
        head = ["", "#", "status", *self.varying, *metrics, "run"]
        rows = []
        for i, (run, combo) in enumerate(zip(self.runs, self.combos, strict=True)):
            rows.append(["*" if run is best else "", str(i), run.status,
                         *[_cell(combo.get(k, run.parameters.get(k))) for k in self.varying],
                         *[f"{run.metrics[m]:.6g}" if m in run.metrics else "-" for m in metrics],
                         (run.run_id or "-")[:8]])
        widths = [max(len(r[c]) for r in [head, *rows]) for c in range(len(head))]
        lines = ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip()
                 for r in [head, *rows]]
        ok = len(self.runs) - len(self.failed)
        footer = f"{ok}/{len(self.runs)} succeeded in {self.duration_s:.1f} s"
        if best is not None:
            footer += f"; best {self.metric}={best.metrics[self.metric]:.6g} (#{self.runs.index(best)}, run {best.run_id})"  # noqa: E501
        elif self.metric:
            footer += f"; no successful run logged {self.metric!r}"
        for i, run in enumerate(self.runs):
            if not run.ok:
                footer += f"\n#{i} {run.status}: {run.error}"
        return "\n".join([*lines, footer])

    def __str__(self) -> str:
        return self.table()

    def _repr_html_(self) -> str:
        import html

        return f"<pre>{html.escape(self.table())}</pre>"


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

    Returns
    -------
    SweepResult
        One :class:`RunResult` per combination; check :attr:`SweepResult.exit_code`.

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
    check_tracking(config)
    source = Path(notebook)
    combos = combinations(grid, param_sets)
    if not combos or (not grid and not param_sets):
        raise UsageArgumentError("A sweep needs --grid NAME=V1,V2 or --params-files.",
                                 parameter="grid")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    folder = Path(out_dir) if out_dir else config.project_root / "outputs" / "sweeps" / (
        f"{source.stem}-{stamp}")
    folder = folder.resolve()
    plans = [_plan(source, i, combo, base, base_text, folder, cwd, kernel_name, config)
             for i, combo in enumerate(combos)]
    varying = [k for k in plans[0].effective if len({json.dumps(p.effective[k], sort_keys=True)
                                                     for p in plans}) > 1]
    varying = [k for k in varying if k in set().union(*combos)]

    import sys

    from nbmlops.pipeline.record import Recorder, SidecarRecorder

    # MLflow loads in a helper process (unless loaded here already) while kernels boot
    recorder = (Recorder if "mlflow" in sys.modules else SidecarRecorder)(config, experiment)

    def open_parent() -> tuple[Any, str]:
        parent = recorder.start(f"sweep {source.stem}", {
            "nbmlops.kind": "sweep", "mlflow.source.name": str(source.resolve()),
            "nbmlops.sweep.out_dir": str(folder)})
        recorder.log_params(parent, {"sweep.grid": grid or {}, "sweep.combinations": len(combos),
                                     "sweep.jobs": jobs})
        return recorder, parent

    try:
        # the sweep run is created (waiting on the helper) while the first kernels boot
        with ThreadPoolExecutor(1) as opener:
            lazy = SweepRecorder(opener.submit(open_parent))
            runs = _run_all(plans, combos, varying, lazy, jobs, timeout, experiment,
                            progress, source.stem)
        _, parent = lazy.opened()
        result = SweepResult(str(source), runs, combos, metric, mode, parent, str(folder),
                             time.perf_counter() - t0, varying)
        _finish_parent(recorder, result)
    finally:
        recorder.close()
    return result


class SweepRecorder:
    """The sweep's recorder, opened in the background; child runs nest under the sweep run."""

    def __init__(self, opening: Any) -> None:
        self._opening = opening

    def opened(self) -> tuple[Any, str]:
        """The :class:`~nbmlops.pipeline.record.Recorder` and the sweep run id (waits)."""
        return self._opening.result()  # type: ignore[no-any-return]

    @property
    def experiment_id(self) -> str:
        """The MLflow experiment id."""
        return str(self.opened()[0].experiment_id)

    def begin(self, name: str, tags: dict[str, str], parent_run_id: str | None,
              params: dict[str, Any]) -> str:
        """Start a child run of the sweep run."""
        recorder, parent = self.opened()
        return str(recorder.begin(name, tags, parent_run_id or parent, params))

    def end(self, *args: Any) -> tuple[dict[str, float], list[str]]:
        """As :meth:`~nbmlops.pipeline.record.Recorder.end`."""
        return self.opened()[0].end(*args)  # type: ignore[no-any-return]


def _plan(source: Path, i: int, combo: dict[str, Any], base: dict[str, Any] | None,
          base_text: dict[str, str] | None, folder: Path, cwd: str | Path | None,
          kernel_name: str | None, config: NbmlopsConfig) -> Plan:
    from nbmlops.pipeline.parameters import read_parameters
    from nbmlops.pipeline.runner import read_notebook

    given = {**(base or {}), **(base_text or {}), **combo}
    text = set(base_text or ()) | {k for k, v in combo.items() if isinstance(v, str)}
    sub = folder / f"{i:03d}"
    declared = read_parameters(read_notebook(source.resolve()), where=str(source))
    for p in declared.parameters.values():  # each combination writes its own files
        if p.role in {"out", "metrics"} and isinstance(p.default, str) and p.name not in combo:
            given[p.name] = str(sub / Path(p.default).name)
            text.add(p.name)
    try:
        return prepare(source, given, text=text, output=sub / f"{source.stem}.ipynb", cwd=cwd,
                       kernel_name=kernel_name, config=config)
    except ParameterError as exc:
        raise ParameterError(f"Combination {i} {json.dumps(combo)}: {exc}",
                             **exc.context) from None


def _run_all(plans: list[Plan], combos: list[dict[str, Any]], varying: list[str],
             recorder: Any, jobs: int, timeout: float | None,
             experiment: str | None, progress: bool, stem: str) -> list[RunResult]:
    from tqdm.auto import tqdm

    results: list[RunResult | None] = [None] * len(plans)

    def one(i: int) -> RunResult:
        label = ",".join(f"{k}={_cell(plans[i].effective[k])}" for k in varying)
        try:
            return execute(plans[i], recorder=recorder, experiment=experiment,
                           run_name=f"{stem}[{label}]", tags={"nbmlops.sweep.index": str(i)},
                           timeout=timeout, recording=writer)
        except Exception as exc:  # one combination must not stop the others
            return _failed(plans[i], exc)

    # MLflow records are written one at a time on their own thread while the next
    # combinations already run
    with ThreadPoolExecutor(1) as writer, ThreadPoolExecutor(max_workers=jobs) as pool, \
            tqdm(total=len(plans), desc=f"sweep {stem}", unit="run", disable=not progress) as bar:
        futures = {pool.submit(one, i): i for i in range(len(plans))}
        failed = 0
        for future in as_completed(futures):
            i = futures[future]
            results[i] = future.result()
            failed += not results[i].ok  # type: ignore[union-attr]
            bar.set_postfix(failed=failed)
            bar.update()
    return [_recorded(plan, result) for plan, result in zip(plans, results, strict=True)
            if result is not None]


def _failed(plan: Plan, exc: BaseException) -> RunResult:
    return RunResult(str(plan.source), str(plan.output), "failed", plan.effective,
                     error=f"{type(exc).__name__}: {exc}")


def _recorded(plan: Plan, result: RunResult) -> RunResult:
    """``result`` once its MLflow record is written (a failed one if writing failed)."""
    pending, result.pending = result.pending, None
    if pending is not None:
        try:
            pending.result()
        except Exception as exc:
            return _failed(plan, exc)
    return result


def _finish_parent(recorder: Any, result: SweepResult) -> None:
    best = result.best
    tags = {"nbmlops.sweep.failed": str(len(result.failed))}
    if best is not None and result.metric:
        recorder.log_metrics(result.run_id, {f"best_{result.metric}": best.metrics[result.metric]})
        tags["nbmlops.sweep.best_run_id"] = best.run_id or ""
    recorder.finish(result.run_id, "FAILED" if result.failed else "FINISHED", tags)
