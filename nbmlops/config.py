"""Resolved configuration: one object passed down, no module reads globals.

Precedence, lowest first:

1. built-in defaults (embedded SQLite MLflow store at the project root);
2. ``[tool.nbmlops]`` in the project's ``pyproject.toml``;
3. environment variables users already know (``MLFLOW_TRACKING_URI``,
   ``MLFLOW_EXPERIMENT_NAME``) and ``NBMLOPS_<KEY>``;
4. explicit overrides (``%config MLOps.<key> = ...``, ``%mlops init``, API kwargs).

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
    """

    project_root: Path
    tracking_uri: str = ""
    artifact_root: str = ""
    experiment: str = ""
    autolog: bool = True
    capture_history: bool = True
    capture_env: bool = True
    capture_git: bool = True
    capture_data: bool = True
    capture_output: bool = True
    redact_secrets: bool = True
    spool_dir: str = ".nbmlops/spool"
    snapshot_dir: str = "data/snapshots"
    dvc_remote: str | None = None
    drift_config: str = "drift.yaml"
    ui_url: str | None = None
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
    given = {k: v for k, v in overrides.items() if v is not None}
    check_keys(given)
    values.update(given)
    return NbmlopsConfig(project_root=root, **values)
