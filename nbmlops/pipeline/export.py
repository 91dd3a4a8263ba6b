"""Export a notebook as a DVC stage: ``params.yaml`` section + ``dvc.yaml`` stage.

The stage's ``cmd`` is ``nbmlops run`` with ``${section.param}`` interpolated
from ``params.yaml``, so ``dvc exp run -S train.C=2.0`` works as-is. Its deps
are the notebook, the files its parameters cell marks ``# dep:`` and the
snapshots it loads (found in the code by AST: ``nbmlops.load("x")`` and
``%mlops load x@2``); its outs are the ``# out:`` files plus the executed
notebook (``cache: false``: it changes every run, so it is never a
dependency); its metrics the ``# metrics:`` file. Output folders are created
(``nbmlops run`` creates them too, for fresh clones). Other stages, other
sections and keys the user added to the stage are kept; comments survive.
"""

from __future__ import annotations

import ast
import io
import os
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbmlops._git import ensure_gitignore
from nbmlops.config import NbmlopsConfig, load_config
from nbmlops.exceptions import PipelineError
from nbmlops.fileio import atomic_write
from nbmlops.pipeline.ipython_syntax import to_python
from nbmlops.pipeline.notebook import cell_source, read_notebook
from nbmlops.pipeline.parameters import Parameter, read_parameters

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

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict view."""
        return {"stage": self.stage, "dvc_file": self.dvc_file, "params_file": self.params_file,
                "stage_def": self.stage_def, "params": self.params,
                "snapshots": self.snapshots, "created": self.created}

    def __str__(self) -> str:
        verb = "wrote" if self.created else "updated"
        lines = [f"{verb} stage {self.stage!r} in {self.dvc_file} and section {self.stage!r} "
                 f"in {self.params_file}", f"  cmd: {self.stage_def['cmd']}"]
        for key in ("deps", "outs", "metrics"):
            items = [next(iter(i)) if isinstance(i, dict) else i for i in self.stage_def[key]]
            lines.append(f"  {key}: {', '.join(items) or '-'}")
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
    snapshots = snapshot_names(nb)
    params_path, dvc_path = root / params_file, root / dvc_file
    section = _update_params(params_path, name, params)
    stage_def = stage_definition(rel_nb, name, declared.parameters, section, snapshots,
                                 params_file, config)
    created = _update_stage(dvc_path, name, stage_def)
    ensure_gitignore(root)  # executed notebooks, the MLflow store: not for git (dvc.lock is)
    for entry in [*stage_def["outs"], *stage_def["metrics"]]:
        path = next(iter(entry)) if isinstance(entry, dict) else entry
        (root / path).parent.mkdir(parents=True, exist_ok=True)
    return ExportResult(name, str(dvc_path), str(params_path), stage_def, section, snapshots,
                        created)


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
    cmd = ["nbmlops", "run", shlex.quote(rel_nb)]
    needs_file = False
    for key, value in values.items():
        if isinstance(value, (bool, int, float)) or (isinstance(value, str) and value):
            ref = f"${{{name}.{key}}}"
            cmd += ["-p", key, f"'{ref}'" if isinstance(value, str) else ref]
        else:
            needs_file = True
    if needs_file:  # lists, dicts, None and "" cannot be interpolated into a command line
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


# ------------------------------------------------------------ snapshot deps


def snapshot_names(nb: dict[str, Any]) -> list[str]:
    """Names of snapshots the notebook loads (``x`` for ``x@2``), in order.

    Finds ``nbmlops.load("x", ...)``, ``load("x")`` imported from nbmlops and
    ``%mlops load x@2`` lines (IPython syntax is first rewritten as IPython
    would, without IPython: :mod:`nbmlops.pipeline.ipython_syntax`).
    """
    names: list[str] = []
    for cell in nb["cells"]:
        code = to_python(cell_source(cell)) if cell.get("cell_type") == "code" else None
        if code is not None:
            names += _loads_in(ast.parse(code))
    return _unique([n.split("@", 1)[0] for n in names if n])


def _loads_in(tree: ast.AST) -> list[str]:
    aliases = {"load"} if _imports_load(tree) else set()
    found: list[str] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "run_line_magic":
            found += _magic_load(node)
        elif (isinstance(func, ast.Attribute) and func.attr == "load"
              and _root_name(func.value) == "nbmlops") or (
                isinstance(func, ast.Name) and func.id in aliases):
            first = node.args[0] if node.args else next(
                (k.value for k in node.keywords if k.arg == "name"), None)
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.append(first.value)
    return found


def _imports_load(tree: ast.AST) -> bool:
    return any(isinstance(n, ast.ImportFrom) and (n.module or "").startswith("nbmlops")
               and any(a.name == "load" and a.asname is None for a in n.names)
               for n in ast.walk(tree))


def _root_name(node: ast.AST) -> str:
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else ""


def _magic_load(node: ast.Call) -> list[str]:
    args = [a.value for a in node.args if isinstance(a, ast.Constant)]
    if len(args) != 2 or args[0] != "mlops":
        return []
    try:
        words = shlex.split(str(args[1]))
    except ValueError:
        return []
    if len(words) >= 2 and words[0] == "load" and not words[1].startswith("-"):
        return [words[1]]
    return []


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

    if not path.exists():
        return CommentedMap()
    try:
        data = _yaml().load(path.read_text(encoding="utf-8"))
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
