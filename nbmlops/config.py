"""Resolved configuration: one object passed down, no module reads globals.

Precedence, lowest first:

1. built-in defaults (embedded SQLite MLflow store at the project root);
2. ``[tool.nbmlops]`` in the project's ``pyproject.toml``;
3. environment variables users already know (``MLFLOW_TRACKING_URI``,
   ``MLFLOW_EXPERIMENT_NAME``) and ``NBMLOPS_<KEY>``;
4. the session layer: :func:`nbmlops.init` / ``%mlops init`` (:func:`set_session`),
   seen by every area of the process;
5. explicit overrides (``%config MLOps.<key> = ...``, API kwargs).

A misspelled key is a :class:`~nbmlops.exceptions.ConfigError` naming the
valid ones.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbmlops.exceptions import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


@dataclass(frozen=True)
class NbmlopsConfig:
    """Every setting nbmlops reads, resolved.

    Attributes
    ----------
    project_root
        Git root of the working directory, else the working directory.
    tracking_uri
        MLflow tracking URI. Default ``sqlite:///<project_root>/mlflow.db``.
    artifact_root
        Where new experiments keep artifacts. Default ``<project_root>/mlartifacts``.
    experiment
        MLflow experiment for runs. Default: the project directory's name.
    autolog
        Turn on MLflow's sklearn autolog inside ``%%mlops run``.
    capture_history, capture_env, capture_git, capture_data, capture_output
        What ``%%mlops run`` captures besides params and metrics.
    redact_secrets
        Drop credential-like params and redact secrets in captured text.
    final_write_timeout
        Seconds a ``%%mlops run`` cell waits for its final write before
        spooling the run (a hung or frozen server).
    http_timeout
        Seconds per MLflow HTTP request inside ``%%mlops run`` (nbmlops' and
        the user's own ``mlflow.*`` calls).
    spool_dir
        Where runs are kept while the tracking server is unreachable.
    snapshot_dir
        Where DataFrame snapshots (``<name>.parquet`` + ``.dvc``) live,
        relative to the project root.
    dvc_remote
        DVC remote used by ``push``; ``None`` means DVC's default remote.
    drift_config
        The drift YAML shared by the panel and the CI gate.
    ui_url
        URL of a running MLflow UI for links in run cards (``%mlops ui`` sets it).
    primary_metric
        The metric that ranks runs (run card's "best", ``runs``, sweeps):
        ``"max:auc"``, ``"min:val_loss"``, or a bare name whose direction is
        guessed (``loss``/``err``/``mse``... are minimised). Default: the
        first metric a cell assigns.
    registry_audit_log
        The registry's hash-chained audit log (validations, promotions, rollbacks).
    identity_source
        Who "I" am for the registry's four-eyes rule: ``os`` (the login name),
        ``git`` (``git config user.email``) or ``env:VAR`` (an environment variable).
    require_approval
        Comma-separated aliases whose promotion needs an approver other than the trainer.
    """

    project_root: Path
    tracking_uri: str = field(default="", metadata={
        "help": "MLflow tracking URI (default: SQLite mlflow.db at the root)."})
    artifact_root: str = field(default="", metadata={
        "help": "Artifact root for new experiments."})
    experiment: str = field(default="", metadata={
        "help": "MLflow experiment name (default: project folder name)."})
    autolog: bool = field(default=True, metadata={
        "help": "MLflow sklearn autolog inside %%mlops run (default True)."})
    capture_history: bool = field(default=True, metadata={
        "help": "Log executed cell history (default True)."})
    capture_env: bool = field(default=True, metadata={
        "help": "Log Python version and packages (default True)."})
    capture_git: bool = field(default=True, metadata={
        "help": "Log git commit/branch/remote/dirty + diff (default True)."})
    capture_data: bool = field(default=True, metadata={
        "help": "Log DataFrames the cell reads as datasets (default True)."})
    capture_output: bool = field(default=True, metadata={
        "help": "Log the cell's stdout/stderr (default True)."})
    redact_secrets: bool = field(default=True, metadata={
        "help": "Drop secret-looking params, redact secrets (default True)."})
    final_write_timeout: float = field(default=15.0, metadata={
        "help": "Seconds a %%mlops run cell waits for its final write before spooling the run."})
    http_timeout: float = field(default=5.0, metadata={
        "help": "Seconds per MLflow HTTP request inside %%mlops run (yours and nbmlops')."})
    spool_dir: str = field(default=".nbmlops/spool", metadata={
        "help": "Folder for runs spooled while the server is down."})
    snapshot_dir: str = field(default="data/snapshots", metadata={
        "help": "Folder for DataFrame snapshots (default data/snapshots)."})
    dvc_remote: str | None = field(default=None, metadata={
        "help": "DVC remote for pushes (default: DVC's default remote)."})
    drift_config: str = field(default="drift.yaml", metadata={
        "help": "Drift YAML shared by panel and CI gate (default drift.yaml)."})
    ui_url: str | None = field(default=None, metadata={
        "help": "URL of a running MLflow UI for run-card links."})
    primary_metric: str | None = field(default=None, metadata={
        "help": "Metric ranking runs: 'max:auc', 'min:loss' or a name (default: first one)."})
    registry_audit_log: str = field(default=".nbmlops/registry_audit.jsonl", metadata={
        "help": "Registry audit log: validations, promotions, rollbacks (hash-chained JSONL)."})
    identity_source: str = field(default="os", metadata={
        "help": "Who trains/approves for four-eyes: os (login), git (user.email) or env:VAR."})
    require_approval: str = field(default="champion", metadata={
        "help": "Aliases whose promotion needs an approver other than the trainer (a,b)."})
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        root = Path(self.project_root).resolve()
        object.__setattr__(self, "project_root", root)
        if not self.tracking_uri:
            object.__setattr__(self, "tracking_uri", f"sqlite:///{root / 'mlflow.db'}")
        if not self.artifact_root:
            object.__setattr__(self, "artifact_root", str(root / "mlartifacts"))
        if not self.experiment:
            object.__setattr__(self, "experiment", root.name or "nbmlops")

    def path(self, relative: str) -> Path:
        """Resolve a configured relative path against :attr:`project_root`."""
        p = Path(relative).expanduser()
        return p if p.is_absolute() else self.project_root / p

    def replace(self, **changes: Any) -> NbmlopsConfig:
        """Return a copy with ``changes`` applied (keys are validated)."""
        check_keys(changes)
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict view (paths as strings)."""
        d = dataclasses.asdict(self)
        d["project_root"] = str(self.project_root)
        return d


#: keys a user may set (project_root is derived, extra is internal)
KEYS: tuple[str, ...] = tuple(
    f.name for f in dataclasses.fields(NbmlopsConfig) if f.name not in {"project_root", "extra"}
)
_BOOL_KEYS = {f.name for f in dataclasses.fields(NbmlopsConfig) if f.type in ("bool", bool)}
_FLOAT_KEYS = {f.name for f in dataclasses.fields(NbmlopsConfig) if f.type in ("float", float)}

#: settings given to :func:`set_session` (``nbmlops.init``) in this process
_SESSION: dict[str, Any] = {}


def is_bool_key(key: str) -> bool:
    """Whether setting ``key`` is a boolean (the magics' traits are generated from this)."""
    return key in _BOOL_KEYS


def help_text(key: str) -> str:
    """One-line help of setting ``key`` (shown by ``%config MLOps``)."""
    return str(_FIELDS[key].metadata.get("help", ""))


_FIELDS = {f.name: f for f in dataclasses.fields(NbmlopsConfig)}


def set_session(**values: Any) -> None:
    """Add settings to this process's session layer (what ``nbmlops.init`` sets).

    Every later :func:`load_config` sees them, whichever area asks:
    snapshots, pipelines, drift and tracking alike. ``None`` values are ignored.
    """
    given = {k: v for k, v in values.items() if v is not None}
    check_keys(given, where="nbmlops.init()")
    _SESSION.update(given)


def session_overrides() -> dict[str, Any]:
    """Settings given to :func:`set_session` in this process."""
    return dict(_SESSION)


def reset_session() -> None:
    """Forget the session layer (tests, ``%unload_ext``)."""
    _SESSION.clear()


def check_keys(values: dict[str, Any], where: str = "nbmlops config") -> None:
    """Raise :class:`ConfigError` for any key that is not a setting."""
    for key in values:
        if key not in KEYS:
            close = difflib.get_close_matches(key, KEYS, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ConfigError(
                f"Unknown {where} key {key!r}.{hint} Valid keys: {', '.join(KEYS)}.", key=key
            )


def find_project_root(start: str | os.PathLike[str] | None = None) -> Path:
    """Return the git root containing ``start`` (default: cwd), else ``start``."""
    start_path = Path(start or os.getcwd()).resolve()
    if start_path.is_file():
        start_path = start_path.parent
    for candidate in (start_path, *start_path.parents):
        if (candidate / ".git").exists():
            return candidate
    try:  # worktrees / GIT_DIR set ups
        out = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"],
            cwd=start_path,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
        if out.returncode == 0 and out.stdout.strip():
            return Path(out.stdout.strip())
    except (OSError, subprocess.SubprocessError):
        pass
    return start_path


def read_pyproject(root: Path) -> dict[str, Any]:
    """Read ``[tool.nbmlops]`` from ``root/pyproject.toml`` (validated)."""
    path = root / "pyproject.toml"
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}", path=str(path)) from None
    section = data.get("tool", {}).get("nbmlops", {})
    check_keys(section, where=f"[tool.nbmlops] key in {path}")
    return dict(section)


def _env_values() -> dict[str, Any]:
    values: dict[str, Any] = {}
    if os.environ.get("MLFLOW_TRACKING_URI"):
        values["tracking_uri"] = os.environ["MLFLOW_TRACKING_URI"]
    if os.environ.get("MLFLOW_EXPERIMENT_NAME"):
        values["experiment"] = os.environ["MLFLOW_EXPERIMENT_NAME"]
    for key in KEYS:
        raw = os.environ.get(f"NBMLOPS_{key.upper()}")
        if raw is not None:
            values[key] = _coerce(key, raw)
    return values


def _coerce(key: str, raw: str) -> Any:
    if key in _BOOL_KEYS:
        lowered = raw.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off"}:
            return False
        raise ConfigError(f"NBMLOPS_{key.upper()}={raw!r} is not a boolean.", key=key)
    if key in _FLOAT_KEYS:
        try:
            return float(raw)
        except ValueError:
            raise ConfigError(f"NBMLOPS_{key.upper()}={raw!r} is not a number.",
                              key=key) from None
    return raw


def load_config(start: str | os.PathLike[str] | None = None, **overrides: Any) -> NbmlopsConfig:
    """Resolve the configuration for the project containing ``start``.

    Parameters
    ----------
    start
        A directory or file inside the project (default: the working directory).
    **overrides
        Highest-precedence values (``None`` values are ignored).

    Returns
    -------
    NbmlopsConfig
        The resolved settings.

    Examples
    --------
    >>> cfg = load_config(experiment="fraud")
    >>> cfg.experiment
    'fraud'
    """
    root = find_project_root(start)
    values: dict[str, Any] = {}
    values.update(read_pyproject(root))
    values.update(_env_values())
    values.update(_SESSION)
    given = {k: v for k, v in overrides.items() if v is not None}
    check_keys(given)
    values.update(given)
    for key in _FLOAT_KEYS & set(values):  # %config traits and TOML strings: numbers
        if isinstance(values[key], str):
            values[key] = _coerce(key, values[key])
    return NbmlopsConfig(project_root=root, **values)
