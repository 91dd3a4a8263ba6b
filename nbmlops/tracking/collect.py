"""What a run records besides the cell's outcome: params, metrics, code, git, env, data.

Each ``collect_*`` function fills part of a :class:`~nbmlops.run_record.RunRecord`
after the cell ran; the lifecycle calls them one by one and keeps going when
one fails (capture is best effort, the run itself must end).
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nbmlops.config import NbmlopsConfig
from nbmlops.run_record import RunRecord
from nbmlops.tracking import capture, context
from nbmlops.tracking.current import dataset_entry
from nbmlops.tracking.secrets import is_secret_name, redact_notebook, redact_params
from nbmlops.tracking.session import SESSION


def cell_fingerprint(py_source: str, notebook: str = "", name: str | None = None) -> str:
    """A stable id for "this cell": survives edits of literal values and re-runs.

    With a run name it is the notebook + name; otherwise the cell's syntax
    tree with every constant replaced by its type, so changing ``C = 0.5`` to
    ``C = 1.0`` keeps the link to earlier runs while a different cell differs.
    """
    h = hashlib.blake2b(digest_size=8)
    h.update(notebook.encode())
    if name:
        h.update(f"name:{name}".encode())
        return h.hexdigest()
    try:
        tree = ast.parse(py_source)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant):
                node.value = type(node.value).__name__
        h.update(ast.dump(tree).encode())
    except SyntaxError:
        h.update(py_source.strip().encode())
    return h.hexdigest()


def collect_params(record: RunRecord, analysis: capture.CellAnalysis, config: NbmlopsConfig,
                   autologged: bool, client: Any) -> None:
    """Injected parameters, the cell's literals and ``log_params``; autolog's win clashes."""
    params: dict[str, str] = {}
    raw = os.environ.get("NBMLOPS_INJECTED_PARAMS")
    if raw:
        for key, value in json.loads(raw).items():
            if not (config.redact_secrets and is_secret_name(key)):
                params[str(key)] = capture.param_value(value)
    params.update(capture.literal_params(analysis, config.redact_secrets))
    params.update(record.params)  # nbmlops.log_params inside the cell
    record.params = params
    if autologged and client is not None and record.run_id:
        rename_clashes(record, client.get_run(record.run_id).data.params)
    # the user's own params, not autolog's (the runs table shows them first)
    record.tags["nbmlops.params"] = json.dumps(list(record.params))[:5000]


def rename_clashes(record: RunRecord, logged: dict[str, str]) -> None:
    """Cell params that differ from a param already logged (by autolog) go as ``cell.<name>``."""
    record.params = {(f"cell.{k}" if k in logged and logged[k] != v else k): v
                     for k, v in record.params.items()}


def collect_metrics(record: RunRecord, analysis: capture.CellAnalysis,
                    namespace: dict[str, Any], only: list[str] | None,
                    config: NbmlopsConfig) -> None:
    """Numeric scalars the cell assigned (``only`` restricts), after ``log_metric`` values."""
    injected = set(json.loads(os.environ.get("NBMLOPS_INJECTED_PARAMS") or "{}"))
    found = capture.scalar_metrics(analysis, namespace, only=only, exclude=injected,
                                   redact_secrets=config.redact_secrets)
    if only:
        missing = [n for n in only if n not in found]
        if missing:
            record.tags["nbmlops.metrics_missing"] = ",".join(missing)
    explicit = {key for key, *_ in record.metrics}
    for key, value in found.items():
        if key not in explicit:
            record.add_metric(key, value)
    own = list(dict.fromkeys([*found, *sorted(explicit)]))
    record.tags["nbmlops.metrics"] = json.dumps(own)[:5000]


def collect_cell(record: RunRecord) -> None:
    """The cell's (already redacted) source, from the run's note, as ``code/cell.py``."""
    note = record.tags.get("mlflow.note.content", "")
    source = note.split("```python\n", 1)[-1].rsplit("\n```", 1)[0] if note else ""
    record.artifacts["code/cell.py"] = source + "\n"


def collect_code(record: RunRecord, config: NbmlopsConfig, shell: Any,
                 red: Callable[[str], str], nb_path: Path | None) -> None:
    """The kernel's history (with a ``shell``) and the notebook file (redacted cell by cell)."""
    if config.capture_history and shell is not None:
        record.artifacts["code/history.py"] = red(history_script(shell))
    if nb_path is not None and nb_path.stat().st_size < 20_000_000:
        text = nb_path.read_text(encoding="utf-8")
        record.artifacts[f"code/{nb_path.name}"] = (
            redact_notebook(text, red) if config.redact_secrets else text)


def scrub(record: RunRecord, red: Callable[[str], str]) -> None:
    """Last pass over everything the record will write: no secret value anywhere."""
    record.params = {k: red(v) for k, v in redact_params(record.params).items()}
    record.tags = {k: v if k == "nbmlops.start_params" else red(str(v))
                   for k, v in record.tags.items()}
    record.artifacts = {k: red(v) if not k.endswith(".ipynb") else v
                        for k, v in record.artifacts.items()}


def history_script(shell: Any) -> str:
    """The cells executed in this kernel, in order, as a runnable ``.py``.

    ``%%mlops`` cells contribute their body; other IPython syntax is
    translated to Python (``get_ipython().run_line_magic(...)``). ``shell``
    is anything with IPython's ``history_manager`` and ``transform_cell``.
    """
    raw = list(getattr(shell.history_manager, "input_hist_raw", []))
    parts = ["# Cells executed in this kernel, in order; In[n] is the execution count.",
             "# Generated by nbmlops. Run with `ipython history.py`.", ""]
    for count, cell in enumerate(raw):
        if not cell.strip():
            continue
        key = hash((count, cell))
        if key not in SESSION.history:
            SESSION.history[key] = _history_cell(shell, cell)
        parts.append(f"# %% In[{count}]")
        parts.append(SESSION.history[key].rstrip() + "\n")
    return "\n".join(parts) + "\n"


def _history_cell(shell: Any, cell: str) -> str:
    first, _, body = cell.partition("\n")
    if first.lstrip().startswith("%%mlops"):
        return f"# {first.strip()}\n{shell.transform_cell(body)}"
    try:
        return str(shell.transform_cell(cell))
    except Exception:  # malformed cell: keep it as a comment
        return "\n".join(f"# {line}" for line in cell.splitlines())


def collect_git(record: RunRecord, config: NbmlopsConfig, nb_path: Path | None,
                red: Callable[[str], str]) -> None:
    """Commit, branch, remote and dirty flag of the notebook's repository; the diff."""
    if not config.capture_git:
        return
    info = context.git_info(nb_path.parent if nb_path else Path.cwd(), scope=".")
    record.tags.update(info.tags())
    if info.diff:
        record.artifacts["git/diff.patch"] = red(info.diff)


def collect_env(record: RunRecord, config: NbmlopsConfig) -> None:
    """Python version, platform and installed packages."""
    if not config.capture_env:
        return
    env = context.environment()
    record.tags["nbmlops.python"] = env["python"]
    record.tags["nbmlops.platform"] = env["platform"]
    record.artifacts["env/requirements.txt"] = env["requirements"]
    record.artifacts["env/python.json"] = json.dumps(
        {k: v for k, v in env.items() if k != "requirements"}, indent=1)


def collect_data(record: RunRecord, config: NbmlopsConfig, analysis: capture.CellAnalysis,
                 namespace: dict[str, Any]) -> None:
    """Every DataFrame the cell read, as a dataset input with a full-content digest.

    A frame equal to a snapshot already attached to the run (``df = load("train@1")``)
    is that snapshot: it is not logged a second time under its variable name.
    """
    if not config.capture_data:
        return
    from nbmlops.hashing import frame_digest

    known = {d["name"] for d in record.datasets}
    digests = {d["digest"] for d in record.datasets}
    for var, frame in capture.frames_read(analysis, namespace).items():
        if var in known:
            continue
        digest = frame_digest(frame)
        if digest in digests:  # the very content of a snapshot the cell loaded: logged as that
            continue
        record.datasets.append(dataset_entry(var, digest, f"variable://{var}", "input",
                                             df=frame))
