"""The demo: execute the quickstart notebook end to end in a real kernel.

``run_demo(folder)`` makes ``folder`` a fresh project (its own git repository,
so it is its own project root), copies ``quickstart.ipynb`` into it, executes
it with papermill in a real ipykernel against the embedded defaults (SQLite
MLflow store ``mlflow.db``, local DVC cache) and returns a :class:`DemoResult`
saying where everything is.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbmlops
from nbmlops.exceptions import NbmlopsError

NOTEBOOK = "quickstart.ipynb"


@dataclass
class DemoResult:
    """Where the demo put its results."""

    folder: Path
    executed_notebook: Path
    tracking_uri: str
    experiment: str
    runs: list[dict[str, Any]] = field(default_factory=list)
    artifacts: list[Path] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict view."""
        return {
            "folder": str(self.folder),
            "executed_notebook": str(self.executed_notebook),
            "tracking_uri": self.tracking_uri,
            "experiment": self.experiment,
            "runs": self.runs,
            "artifacts": [str(p) for p in self.artifacts],
        }

    def __str__(self) -> str:
        width = max((len(r["name"] or "") for r in self.runs), default=0)
        runs = "\n".join(
            f"  {r['name'] or '':<{width}}  {r['status']:<9} "
            + ", ".join(f"{k}={r['metrics'][k]:.4g}" for k in _own(r)[:4])
            for r in self.runs
        )
        extra = "\n".join(f"  {p}" for p in self.artifacts)
        db = self.tracking_uri
        return (
            f"nbmlops demo finished in {self.folder}\n\n"
            f"Executed notebook: {self.executed_notebook}\n"
            f"MLflow store:      {db}  (experiment '{self.experiment}')\n"
            f"Runs:\n{runs or '  (none)'}\n"
            + (f"Other results:\n{extra}\n" if extra else "")
            + "\nOpen the MLflow UI:\n"
            f"  cd {self.folder} && nbmlops ui\n"
            f"  (or: mlflow ui --backend-store-uri {db} --port 5000, then http://127.0.0.1:5000)\n"
        )


def _own(run: dict[str, Any]) -> list[str]:
    """The metrics the notebook's cells assigned (what ``%%mlops run`` tags), else all."""
    try:
        own = json.loads(run.get("tags", {}).get("nbmlops.metrics") or "null")
    except ValueError:
        own = None
    names = [n for n in own if n in run["metrics"]] if isinstance(own, list) else []
    return names or sorted(run["metrics"])


def find_notebook(name: str = NOTEBOOK) -> Path:
    """Locate a shipped notebook: the source tree's ``notebooks/`` or the wheel copy."""
    here = Path(nbmlops.__file__).resolve().parent
    for candidate in (here.parent / "notebooks" / name, here / "_notebooks" / name):
        if candidate.is_file():
            return candidate
    raise NbmlopsError(f"Cannot find the demo notebook {name!r}; is nbmlops installed whole?")


def _git_init(folder: Path) -> None:
    if (folder / ".git").exists():
        return
    ident = ["-c", "user.name=nbmlops demo", "-c", "user.email=demo@localhost"]
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=folder, check=True)
    (folder / ".gitignore").write_text("mlflow.db\nmlartifacts/\n.nbmlops/\n*.executed.ipynb\n")
    subprocess.run(["git", "add", ".gitignore"], cwd=folder, check=True)
    subprocess.run(["git", *ident, "commit", "-q", "-m", "nbmlops demo project"],
                   cwd=folder, check=True)


def run_demo(folder: str | os.PathLike[str] = "nbmlops-demo", *, progress: bool = True,
             timeout: int = 600) -> DemoResult:
    """Execute the quickstart notebook in ``folder`` and report the results.

    Parameters
    ----------
    folder
        Project folder to create/reuse (default ``./nbmlops-demo``).
    progress
        Show papermill's per-cell progress bar.
    timeout
        Seconds a single cell may take.

    Returns
    -------
    DemoResult
        Paths of the executed notebook and store, and the runs it made.
    """
    import papermill

    from nbmlops.config import load_config
    from nbmlops.pipeline.kernel import start_kernel, stop_kernel

    root = Path(folder).resolve()
    root.mkdir(parents=True, exist_ok=True)
    if shutil.which("git"):
        _git_init(root)
    source = root / NOTEBOOK
    shutil.copyfile(find_notebook(), source)
    executed = root / "quickstart.executed.ipynb"
    # the kernel's environment (this process's stays as it is): the embedded store
    # (no outside MLFLOW_TRACKING_URI), the notebook's path for mlflow.source.name,
    # no DVC analytics
    env = {"MLFLOW_TRACKING_URI": None, "NBMLOPS_NOTEBOOK_PATH": str(source),
           "DVC_NO_ANALYTICS": "1"}
    km = None
    try:
        # the batch runner's kernel: IPC sockets, no unencrypted-TCP warning from ipykernel
        km = start_kernel("python3", env, str(root))
        papermill.execute_notebook(
            str(source), str(executed), cwd=str(root), progress_bar=progress,
            kernel_name="python3", execution_timeout=timeout, km=km,
        )
    except papermill.PapermillExecutionError as exc:
        raise NbmlopsError(
            f"The demo notebook failed in cell {exc.exec_count}: {exc.ename}: {exc.evalue} "
            f"(executed notebook kept at {executed})",
            path=str(executed),
        ) from None
    finally:
        if km is not None:
            stop_kernel(km)
    cfg = load_config(root)
    return DemoResult(
        folder=root, executed_notebook=executed, tracking_uri=cfg.tracking_uri,
        experiment=cfg.experiment, runs=_runs(cfg),
        artifacts=sorted(p for p in root.glob("*.html")),
    )


def _runs(cfg: Any) -> list[dict[str, Any]]:
    from nbmlops.mlflow_gateway import client_for

    client = client_for(cfg.tracking_uri)
    exp = client.get_experiment_by_name(cfg.experiment)
    if exp is None:
        return []
    runs = client.search_runs([exp.experiment_id], order_by=["attributes.start_time ASC"])
    return [
        {"run_id": r.info.run_id, "name": r.info.run_name, "status": r.info.status,
         "params": dict(r.data.params), "metrics": dict(r.data.metrics),
         "tags": {k: v for k, v in r.data.tags.items() if k.startswith("nbmlops.")}}
        for r in runs
    ]
