"""Export a notebook as a DVC stage: ``params.yaml`` section + ``dvc.yaml`` stage.

The stage's ``cmd`` is ``nbmlops run -f params.yaml:<section>``: the values
are read from the file by the run itself, never put on a command line (no
shell ever parses a value, and no size limit applies); the stage lists them
as ``params``, so ``dvc exp run -S train.C=2.0`` works as-is. Its deps
are the notebook, the files its parameters cell marks ``# dep:`` and the
snapshots it loads (found in the code by AST: ``nbmlops.load("x")`` and
``%mlops load x@2``) except those it writes itself (``nbmlops.snapshot(df,
"x")``, ``%mlops snapshot df --name x``: a stage cannot depend on its own
output); its outs are the ``# out:`` files plus the executed
notebook (``cache: false``: it changes every run, so it is never a
dependency); its metrics the ``# metrics:`` file. Output folders are created
(``nbmlops run`` creates them too, for fresh clones). Other stages, other
sections and keys the user added to the stage are kept; comments survive.
"""

from __future__ import annotations

import io
import os
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbmlops._git import ensure_gitignore
from nbmlops.config import NbmlopsConfig, load_config
from nbmlops.exceptions import PipelineError
from nbmlops.fileio import atomic_write
from nbmlops.pipeline.notebook import read_notebook
from nbmlops.pipeline.parameters import Parameter, read_parameters
from nbmlops.pipeline.snapshot_refs import snapshot_names, snapshot_writes

__all__ = ["ExportResult", "export", "snapshot_names", "snapshot_writes", "stage_definition"]

#: stage keys nbmlops writes; any other key of an existing stage is kept
OWNED_KEYS = ("cmd", "deps", "params", "outs", "metrics")


@dataclass
class ExportResult:
    """What :func:`export` wrote."""

    stage: str
    dvc_file: str
    params_file: str
    stage_def: dict[str, Any]
    params: dict[str, Any]
    snapshots: list[str] = field(default_factory=list)
    created: bool = True
    #: whether the project is inside a DVC repository (else ``dvc repro`` cannot run yet)
    dvc_ready: bool = True
    #: the ``dvc init`` command that fits the project (git root, below one, no git)
    init_command: str = "dvc init"

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict view."""
        return {"stage": self.stage, "dvc_file": self.dvc_file, "params_file": self.params_file,
                "stage_def": self.stage_def, "params": self.params,
                "snapshots": self.snapshots, "created": self.created,
                "dvc_ready": self.dvc_ready}

    def __str__(self) -> str:
        verb = "wrote" if self.created else "updated"
        lines = [f"{verb} stage {self.stage!r} in {self.dvc_file} and section {self.stage!r} "
                 f"in {self.params_file}", f"  cmd: {self.stage_def['cmd']}"]
        for key in ("deps", "outs", "metrics"):
            items = [next(iter(i)) if isinstance(i, dict) else i for i in self.stage_def[key]]
            lines.append(f"  {key}: {', '.join(items) or '-'}")
        if not self.dvc_ready:
            lines.append(f"not a DVC repository yet: run `{self.init_command}` first "
                         "(or export with --dvc-init)")
            lines.append(f"next: {self.init_command} && dvc repro")
        else:
            lines.append("next: dvc repro   (or: dvc exp run -S "
                         f"{self.stage}.<param>=<value>)")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        import html

        return f"<pre>{html.escape(str(self))}</pre>"


def export(
    notebook: str | Path,
    *,
    stage: str | None = None,
    params_file: str = "params.yaml",
    dvc_file: str = "dvc.yaml",
    config: NbmlopsConfig | None = None,
    init_dvc: bool = False,
) -> ExportResult:
    """Write or update ``params.yaml`` and the notebook's stage in ``dvc.yaml``.

    Parameters
    ----------
    notebook
        The notebook (inside the project).
    stage
        Stage name and ``params.yaml`` section (default: the notebook's stem).
    params_file, dvc_file
        Relative to the project root.
    config
        Resolved configuration (default: :func:`~nbmlops.config.load_config`).
    init_dvc
        Run ``dvc init`` in the project root when it is not inside a DVC
        repository yet (``--no-scm`` outside git, ``--subdir`` below a git root).

    Returns
    -------
    ExportResult
        The stage as written.

    Raises
    ------
    PipelineError
        When the notebook has no parameters cell or lies outside the project.
    """
    config = config or load_config()
    root = config.project_root
    source = Path(notebook).resolve()
    try:
        rel_nb = source.relative_to(root).as_posix()
    except ValueError:
        raise PipelineError(f"{notebook} is not inside the project {root}.",
                            path=str(notebook)) from None
    nb = read_notebook(source)
    declared = read_parameters(nb, where=str(notebook))
    if declared.index is None:
        raise PipelineError(f"{notebook} has no cell tagged 'parameters'; run "
                            f"`nbmlops pipeline init {notebook}` first.", path=str(notebook))
    name = stage or source.stem
    if not name.replace("-", "_").isidentifier():
        raise PipelineError(f"Stage name {name!r} must be letters, digits, '_' or '-'.",
                            path=str(notebook))
    params = {p.name: p.default for p in declared.parameters.values() if p.role is None}
    written = set(snapshot_writes(nb))
    snapshots = [s for s in snapshot_names(nb) if s not in written]
    params_path, dvc_path = root / params_file, root / dvc_file
    section = _update_params(params_path, name, params)
    stage_def = stage_definition(rel_nb, name, declared.parameters, section, snapshots,
                                 params_file, config)
    created = _update_stage(dvc_path, name, stage_def)
    ensure_gitignore(root)  # executed notebooks, the MLflow store: not for git (dvc.lock is)
    for entry in [*stage_def["outs"], *stage_def["metrics"]]:
        path = next(iter(entry)) if isinstance(entry, dict) else entry
        (root / path).parent.mkdir(parents=True, exist_ok=True)
    ready = in_dvc_repo(root) or (init_dvc and _dvc_init(root))
    return ExportResult(name, str(dvc_path), str(params_path), stage_def, section, snapshots,
                        created, ready, " ".join(["dvc", "init", *_init_flags(root)]))


def in_dvc_repo(root: Path) -> bool:
    """Whether ``root`` or a folder above it holds a ``.dvc`` folder."""
    return any((folder / ".dvc").is_dir() for folder in (root, *root.parents))


def _init_flags(root: Path) -> list[str]:
    git_root = next((f for f in (root, *root.parents) if (f / ".git").exists()), None)
    return ["--no-scm"] if git_root is None else [] if git_root == root else ["--subdir"]


def _dvc_init(root: Path) -> bool:
    flags = _init_flags(root)
    proc = subprocess.run([sys.executable, "-m", "dvc", "init", "-q", *flags], cwd=root,
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise PipelineError(f"`dvc init` failed in {root}: "
                            f"{(proc.stderr or proc.stdout).strip().splitlines()[-1:]}",
                            path=str(root))
    return True


def stage_definition(rel_nb: str, name: str, declared: dict[str, Parameter],
                     values: dict[str, Any], snapshots: list[str], params_file: str,
                     config: NbmlopsConfig) -> dict[str, Any]:
    """The ``dvc.yaml`` stage for a notebook (paths relative to the project root)."""
    by_role: dict[str | None, list[str]] = {}
    for p in declared.values():
        if p.role and isinstance(p.default, str) and p.default:
            by_role.setdefault(p.role, []).append(_norm(p.default))
    metrics = by_role.get("metrics", [])
    outs = by_role.get("out", [])
    folder = (Path(metrics[0]).parent if metrics else Path(outs[0]).parent if outs
              else Path("outputs") / name)
    executed = (folder / f"{Path(rel_nb).stem}.ipynb").as_posix()
    # values reach the run through the params file, never through the command line: no
    # value is ever parsed by a shell (O'Brien, `'; touch x; echo '`), and no size limit of
    # a command line or an environment variable applies
    cmd = ["nbmlops", "run", shlex.quote(rel_nb)]
    if values:
        cmd += ["-f", shlex.quote(f"{params_file}:{name}")]
    cmd += ["-o", shlex.quote(executed), "--no-progress"]
    snap_dir = Path(config.snapshot_dir)
    deps = [rel_nb, *by_role.get("dep", []),
            *[(snap_dir / f"{s}.parquet").as_posix() for s in snapshots]]
    params_ref: list[Any] = [f"{name}.{k}" for k in values]
    if params_file != "params.yaml":
        params_ref = [{params_file: params_ref}]
    return {
        "cmd": " ".join(cmd),
        "deps": _unique(deps),
        "params": params_ref,
        "outs": [*_unique(outs), {executed: {"cache": False}}],
        "metrics": [{m: {"cache": False}} for m in _unique(metrics)],
    }


def _norm(path: str) -> str:
    return Path(os.path.normpath(path)).as_posix()


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


# ------------------------------------------------------------ YAML files


def _yaml() -> Any:
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.preserve_quotes = True
    yaml.width = 4096
    return yaml


def _load(path: Path) -> Any:
    from ruamel.yaml.comments import CommentedMap

    from nbmlops.pipeline import safe_yaml

    if not path.exists():
        return CommentedMap()
    text = safe_yaml.read_text(path)
    safe_yaml.check_shape(text, path)  # before ruamel builds anything
    try:
        data = _yaml().load(text)
    except Exception as exc:  # ruamel raises many error types for bad YAML
        raise PipelineError(f"{path} is not valid YAML: {exc}", path=str(path)) from None
    if data is None:
        return CommentedMap()
    if not isinstance(data, dict):
        raise PipelineError(f"{path} must be a YAML mapping.", path=str(path))
    return data


def _dump(path: Path, data: Any) -> None:
    buf = io.StringIO()
    _yaml().dump(data, buf)
    atomic_write(path, buf.getvalue())


def _update_params(path: Path, section: str, defaults: dict[str, Any]) -> dict[str, Any]:
    """Add the section; keep values already there; drop names no longer declared."""
    from ruamel.yaml.comments import CommentedMap

    data = _load(path)
    old = data.get(section)
    if old is not None and not isinstance(old, dict):
        raise PipelineError(f"Section {section!r} of {path} must be a mapping.", path=str(path))
    new = old if old is not None else CommentedMap()
    for key in [k for k in new if k not in defaults]:
        del new[key]
    for key, value in defaults.items():
        if key not in new:
            new[key] = value
    data[section] = new
    _dump(path, data)
    return {k: new[k] for k in defaults}


def _update_stage(path: Path, name: str, stage_def: dict[str, Any]) -> bool:
    from ruamel.yaml.comments import CommentedMap

    data = _load(path)
    stages = data.setdefault("stages", CommentedMap())
    if not isinstance(stages, dict):
        raise PipelineError(f"'stages' in {path} must be a mapping.", path=str(path))
    created = name not in stages
    stage = stages.get(name) if not created else CommentedMap()
    if not isinstance(stage, dict):
        raise PipelineError(f"Stage {name!r} in {path} must be a mapping.", path=str(path))
    for key in OWNED_KEYS:
        if stage_def.get(key):
            stage[key] = stage_def[key]
        elif key in stage:
            del stage[key]
    stages[name] = stage
    _dump(path, data)
    return created
