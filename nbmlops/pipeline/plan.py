"""What to run and how: the checked plan of one notebook run, and its options.

:func:`prepare` checks everything that can be checked before a kernel starts
(the notebook, the parameters against its parameters cell, the working
directory, the output paths) and returns a :class:`Plan`; :class:`ExecOptions`
says how it executes and where it is recorded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbmlops.config import NbmlopsConfig, load_config
from nbmlops.exceptions import ParameterError, PipelineError, TrackingError
from nbmlops.pipeline.inject import inject
from nbmlops.pipeline.notebook import read_notebook
from nbmlops.pipeline.parameters import ParametersCell, read_parameters, resolve_values


@dataclass(frozen=True)
class ExecOptions:
    """How a prepared notebook executes and where its MLflow run goes.

    Built once by :func:`~nbmlops.pipeline.runner.run_notebook` or
    :func:`~nbmlops.pipeline.sweep.sweep` from their keyword arguments (a sweep
    derives one per combination with :func:`dataclasses.replace`).

    Attributes
    ----------
    timeout
        Seconds one cell may run before the run counts as timed out.
    start_timeout
        Seconds to wait for the kernel to start.
    kernel_name
        Kernelspec (default: the notebook's, else ``python3``).
    progress
        Show papermill's cell progress bar.
    log_output
        Stream the notebook's outputs to the log.
    experiment
        MLflow experiment (default: the configured one).
    run_name
        MLflow run name (default: the notebook's stem).
    parent_run_id
        Nest the run under another.
    tags
        Extra MLflow tags of the run.
    """

    timeout: float | None = None
    start_timeout: float = 60
    kernel_name: str | None = None
    progress: bool = False
    log_output: bool = False
    experiment: str | None = None
    run_name: str | None = None
    parent_run_id: str | None = None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class Plan:
    """A checked, parameterized notebook ready to execute."""

    source: Path
    output: Path
    cwd: Path
    config: NbmlopsConfig
    declared: ParametersCell
    values: dict[str, Any]
    effective: dict[str, Any]
    nb: dict[str, Any]
    kernel_name: str
    metrics_path: Path | None


def check_tracking(config: NbmlopsConfig) -> None:
    """Fail fast (before any kernel starts) when the MLflow server does not answer.

    Without this, MLflow's own retries would wait minutes for a dead server
    after the notebook had run.

    Raises
    ------
    TrackingError
        When a tracking server URI does not answer ``/health`` (exit code 2).
    """
    from nbmlops.mlflow_gateway import reachable

    if not reachable(config.tracking_uri):
        raise TrackingError(
            f"The MLflow tracking server {config.tracking_uri} does not answer; start it, or "
            "point MLFLOW_TRACKING_URI (or [tool.nbmlops] tracking_uri) at a running one. "
            "Nothing was run.", uri=config.tracking_uri)


def load_params_file(spec: str | Path) -> dict[str, Any]:
    """Values from ``file.yaml`` or one section of it (``file.yaml:section``).

    Raises
    ------
    ParameterError
        When the file is missing, not UTF-8, not YAML, nested too deep,
        expands too far through aliases, or is not a mapping.
    """
    from nbmlops.pipeline import safe_yaml

    text = str(spec)
    path, section = Path(text), None
    if not path.exists() and ":" in text:
        head, _, section = text.rpartition(":")
        path = Path(head)
    data = safe_yaml.load(path)  # UTF-8, bounded depth and alias expansion, one-line errors
    data = data or {}
    if section is not None:
        if not isinstance(data, dict) or section not in data:
            raise ParameterError(f"Parameters file {path} has no section {section!r}.",
                                 path=str(path))
        data = data[section] or {}
    if not isinstance(data, dict):
        raise ParameterError(f"Parameters file {path} must hold a mapping of name: value.",
                             path=str(path))
    return data


def prepare(
    notebook: str | Path,
    given: dict[str, Any],
    *,
    text: set[str] | None = None,
    output: str | Path | None = None,
    cwd: str | Path | None = None,
    kernel_name: str | None = None,
    config: NbmlopsConfig | None = None,
) -> Plan:
    """Check everything that can be checked before a kernel starts.

    Raises
    ------
    ParameterError, PipelineError
        Bad parameters or input (exit code 2).
    """
    config = config or load_config()
    source = Path(notebook).resolve()
    nb = read_notebook(source)
    declared = read_parameters(nb, where=str(notebook))
    if given and declared.index is None:
        raise ParameterError(
            f"{notebook} has no cell tagged 'parameters'; run `nbmlops pipeline init {notebook}` "
            "to tag its first cell of literal assignments.", parameter=next(iter(given)))
    values = resolve_values(declared.parameters, given, text=text or set(), where=str(notebook))
    effective = {**declared.defaults(), **values}
    workdir = Path(cwd).resolve() if cwd else config.project_root
    if not workdir.is_dir():
        raise PipelineError(f"Working directory {workdir} does not exist.", path=str(workdir))
    metrics = [p.name for p in declared.with_role("metrics")]
    outs = [p.name for p in declared.with_role("out")]
    metrics_path = _param_path(workdir, effective, metrics[0]) if metrics else None
    out_path = _output_path(source, output, workdir, config, effective, metrics + outs)
    for name in metrics + outs:
        target = _param_path(workdir, effective, name)
        if target is not None:
            target.parent.mkdir(parents=True, exist_ok=True)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    nb_meta = nb.get("metadata", {})
    kernel = kernel_name or nb_meta.get("kernelspec", {}).get("name") or "python3"
    injected = inject(nb, values, declared.index) if values else nb
    return Plan(source, out_path, workdir, config, declared, values, effective, injected,
                kernel, metrics_path)


def _param_path(workdir: Path, values: dict[str, Any], name: str) -> Path | None:
    value = values.get(name)
    if not isinstance(value, str) or not value:
        return None
    return (workdir / value).resolve()


def _output_path(source: Path, output: str | Path | None, workdir: Path, config: NbmlopsConfig,
                 values: dict[str, Any], path_params: list[str]) -> Path:
    if output is not None:
        out = Path(output).resolve()
    else:
        folder = config.project_root / "outputs" / source.stem
        for name in path_params:
            target = _param_path(workdir, values, name)
            if target is not None:
                folder = target if not target.suffix else target.parent
                break
        out = folder / f"{source.stem}.ipynb"
    if out == source:
        raise PipelineError(f"The executed notebook would overwrite its source {source}; "
                            "choose another output path.", path=str(out))
    return out


def kernel_env(plan: Plan, experiment: str) -> dict[str, str]:
    """The variables a run's kernel gets (see docs/development.md, Contracts)."""
    return {
        "MLFLOW_TRACKING_URI": plan.config.tracking_uri,
        "MLFLOW_EXPERIMENT_NAME": experiment,
        "NBMLOPS_INJECTED_PARAMS": env_params(plan.effective),
        "NBMLOPS_NOTEBOOK_PATH": str(plan.source),
    }




#: longest JSON text of one value in ``NBMLOPS_INJECTED_PARAMS`` (MLflow keeps 6000 characters
#: of a param anyway); Linux refuses to start a process with one variable over 128 KiB (E2BIG)
ENV_VALUE_LIMIT = 6000
#: longest ``NBMLOPS_INJECTED_PARAMS`` altogether
ENV_TOTAL_LIMIT = 64 * 1024


def env_params(values: dict[str, Any]) -> str:
    """``values`` as JSON for the kernel's environment, large values shortened.

    The kernel gets the full values in its injected-parameters cell; the
    variable only says what to log as MLflow params (each cut to what MLflow
    keeps), so a 200 kB string or a 30k-item list never reaches ``execve``.
    """
    text = json.dumps(values, default=str)
    if len(text) <= ENV_TOTAL_LIMIT:
        return text
    limit = ENV_VALUE_LIMIT
    while True:
        short = {k: _shorten(v, limit) for k, v in values.items()}
        text = json.dumps(short, default=str)
        if len(text) <= ENV_TOTAL_LIMIT or limit <= 16:
            return text
        limit //= 2


def _shorten(value: Any, limit: int) -> Any:
    text = json.dumps(value, default=str)
    if len(text) <= limit:
        return value
    return text[: max(limit - 40, 1)] + f"... ({len(text):,} characters)"
