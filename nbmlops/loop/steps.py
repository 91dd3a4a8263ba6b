"""The loop's steps, each one call into an area's public face.

Each step takes the :class:`Ctx` and returns a :class:`Done` (``status`` done,
failed or waiting, a one-line detail, values kept in the iteration state).
"""

from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbmlops.config import NbmlopsConfig
from nbmlops.loop import data as d
from nbmlops.loop.config import LoopConfig, LoopError
from nbmlops.loop.state import IterationState

Span = tuple[_dt.datetime, _dt.datetime]
STEPS = ("check", "snapshot", "train", "register", "validate", "approve")
LOOP_APPROVER = "nbmlops-loop"


@dataclass
class Ctx:
    """What every step sees."""

    cfg: LoopConfig
    project: NbmlopsConfig
    state: IterationState

    @property
    def now(self) -> _dt.datetime:
        """The iteration's frozen time."""
        return self.state.when

    def windows(self) -> tuple[Span, Span]:
        """(training window, holdout window): the holdout is the latest, never trained on."""
        hold = d.span(self.cfg.validate.holdout_window, "validate.holdout_window")
        train = d.span(self.cfg.train.data_window, "train.data_window")
        cut = self.now - hold
        return (cut - train, cut), (cut, self.now)


@dataclass
class Done:
    """A step's outcome."""

    status: str
    detail: str
    values: dict[str, Any] = field(default_factory=dict)
    run_id: str | None = None


def check(ctx: Ctx) -> Done:
    """Drift/performance gate on the recent log window (labels joined)."""
    import nbmlops.drift as drift
    import nbmlops.versioning as versioning

    cfg = ctx.cfg
    start = ctx.now - d.span(cfg.monitor.window, "monitor.window")
    rows = d.read_window(cfg, start, ctx.now)
    if rows.empty:
        return Done("waiting", f"no traffic in {cfg.monitor.log} since {start:%Y-%m-%d %H:%M}.")
    ref = versioning.load(cfg.monitor.reference) if "@" in cfg.monitor.reference \
        else cfg.monitor.reference
    ref_cols = list(getattr(ref, "columns", []))
    key = d.id_column(cfg)
    pred = "prediction" if "prediction" in ref_cols else None
    keep = [c for c in rows.columns if c in ref_cols and c != cfg.validate.target] + [key]
    fail_on = [t for t in cfg.trigger.on if t == "drift" or pred]
    if not fail_on:
        raise LoopError("trigger.on: performance needs a 'prediction' column in the reference "
                        f"{cfg.monitor.reference}; add drift or a reference with predictions.",
                        parameter="trigger.on")
    labels = d.labels_folder(ctx.cfg) if pred and d.labels_folder(cfg).exists() else None
    result = drift.run_gate(ref, rows[keep], config=cfg.trigger.config, fmt="json",
                            fail_on=",".join(fail_on), target=cfg.validate.target,
                            prediction=pred, exclude=[key], labels=labels,
                            id_column=key if labels is not None else None)
    if result.exit_code == 2:
        raise LoopError(f"the drift check could not run: {result.text.strip()[:300]}")
    report = result.report
    triggered = result.exit_code == 1
    why = f"{report.verdict}: {report.reason}" if report is not None else result.text[:200]
    if "performance" in cfg.trigger.on and not pred:
        why += (f" (performance not judged: the reference {cfg.monitor.reference} has no "
                "'prediction' column)")
    return Done("done", ("TRIGGERED " if triggered else "no trigger; ") + why,
                {"triggered": triggered, "drifted": list(getattr(report, "drifted", []) or []),
                 "rows": len(rows)})


def snapshot(ctx: Ctx) -> Done:
    """Labelled rows of the training window -> DVC snapshot ``<model>-train@k``."""
    import nbmlops.versioning as versioning

    cfg = ctx.cfg
    (t0, t1), (h0, h1) = ctx.windows()
    train = d.with_labels(cfg, d.read_window(cfg, t0, t1))
    hold = d.with_labels(cfg, d.read_window(cfg, h0, h1))
    if train.empty or hold.empty:
        which = "training" if train.empty else "holdout"
        return Done("waiting", f"no labels yet for the {which} window "
                               f"({(t0 if train.empty else h0):%Y-%m-%d %H:%M} .. "
                               f"{(t1 if train.empty else h1):%Y-%m-%d %H:%M}): the iteration "
                               "waits; run loop --once again when labels arrive.")
    frame = d.features(train, cfg.validate.target)
    snap = versioning.snapshot(frame, cfg.snapshot_name, config=ctx.project,
                               message=f"loop iteration {ctx.state.iteration}: labelled rows "
                                       f"{t0:%Y-%m-%d %H:%M} .. {t1:%Y-%m-%d %H:%M}")
    ref = f"{snap.name}@{snap.version}"
    return Done("done", f"{ref}: {snap.rows} labelled rows, holdout {len(hold)} rows",
                {"ref": ref, "rows": snap.rows, "holdout_rows": len(hold)})


def train(ctx: Ctx) -> Done:
    """The training notebook through ``nbmlops.run_notebook`` with the snapshot as parameter."""
    from nbmlops.pipeline import run_notebook

    cfg, ref = ctx.cfg, ctx.state.value("snapshot", "ref")
    params = {**cfg.train.params, cfg.train.data_parameter: ref}
    res = run_notebook(cfg.train.notebook, params, config=ctx.project,
                       parent_run_id=ctx.state.parent_run_id, run_name=f"{cfg.model}-train",
                       raise_on_error=False)
    values = {"notebook_run_id": res.run_id, "child_run_ids": list(res.child_run_ids),
              "output": res.output_notebook}
    if not res.ok:
        where = f" (cell {res.cell})" if res.cell is not None else ""
        return Done("failed", f"{cfg.train.notebook} {res.status}{where}: {res.error}", values,
                    res.run_id)
    return Done("done", f"{cfg.train.notebook} on {ref} in {res.duration_s:.0f}s", values,
                res.run_id)


def register(ctx: Ctx) -> Done:
    """The run's model -> a new version at ``@challenger`` (once: a re-run finds it)."""
    import nbmlops.registry as registry
    from nbmlops.mlflow_gateway import registry as gw

    cfg = ctx.cfg
    runs = [*reversed(ctx.state.value("train", "child_run_ids") or []),
            ctx.state.value("train", "notebook_run_id")]
    cl = gw.client(ctx.project.tracking_uri)
    for v in gw.versions(cl, cfg.model):
        if v.run_id in runs or v.tags.get("nbmlops.run_id") in runs:
            return Done("done", f"{cfg.model} v{v.version} (already registered)",
                        {"version": v.version})
    source = next((r for r in runs if r and gw.run_model_uri(cl, r) is not None), None)
    if source is None:
        return Done("failed", f"{cfg.train.notebook} logged no model (keep sklearn autolog on "
                              "in a %%mlops run cell, or log one).", {})
    info = registry.register(cfg.model, source, alias="challenger", config=ctx.project)
    ref = ctx.state.value("snapshot", "ref")
    gw.set_tags(cl, cfg.model, info.version, {"nbmlops.loop.data": str(ref),
                                              "nbmlops.loop.iteration": ctx.state.iteration})
    return Done("done", f"{cfg.model} v{info.version} @challenger, trained on {ref}",
                {"version": info.version, "source_run": source})


def validate(ctx: Ctx) -> Done:
    """Challenger vs the promoted alias on the holdout window."""
    import nbmlops.registry as registry

    cfg = ctx.cfg
    _, (h0, h1) = ctx.windows()
    hold = d.features(d.with_labels(cfg, d.read_window(cfg, h0, h1)), cfg.validate.target)
    version = ctx.state.value("register", "version")
    res = registry.validate(f"{cfg.model}/{version}", against=f"{cfg.model}@{cfg.promote.alias}",
                            data=hold, target=cfg.validate.target,
                            slices=list(cfg.validate.slices) or None,
                            rules=dict(cfg.validate.rules) or None, config=ctx.project,
                            data_name=f"{cfg.model}-log[{h0:%Y-%m-%dT%H:%M:%S}.."
                                      f"{h1:%Y-%m-%dT%H:%M:%S})")
    summary = {"verdict": res.verdict, "reason": res.reason, "id": res.id, "data": res.data,
               "n_rows": res.n_rows,
               "rows": [{"metric": r.metric, "slice": r.slice, "n": r.n,
                         "champion": r.champion, "candidate": r.candidate, "delta": r.delta,
                         "status": r.status, "rule": r.rule} for r in res.rows]}
    summary = json.loads(json.dumps(summary, default=str).replace("NaN", "null"))
    status = "done" if res.verdict == "pass" else "failed"
    return Done(status, res.summary(), {"summary": summary})


def approve(ctx: Ctx) -> Done:
    """A pending approval (require_approval), else the promotion itself."""
    import nbmlops.registry as registry
    from nbmlops.loop import approvals

    cfg, st = ctx.cfg, ctx.state
    version = str(st.value("register", "version"))
    if cfg.promote.require_approval:
        approvals.request(ctx.project, approvals.Approval(
            model=cfg.model, version=version, alias=cfg.promote.alias,
            requested_at=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            validation=st.value("validate", "summary") or {},
            trained_on=str(st.value("snapshot", "ref")),
            run_id=st.value("train", "run_id"), iteration=st.iteration))
        return Done("done", f"pending approval: {cfg.model} v{version} -> @{cfg.promote.alias} "
                            f"(nbmlops approvals approve {cfg.model} {version} --approver ...)",
                    {"pending": True})
    decision = registry.promote(cfg.model, version, to=cfg.promote.alias, approver=LOOP_APPROVER,
                                reason=f"loop iteration {st.iteration}", config=ctx.project)
    return Done("done", str(decision), {"pending": False})


def check_inputs(cfg: LoopConfig, project: NbmlopsConfig) -> None:
    """Bad input before anything is written: the notebook's parameter, the alias, the log."""
    from nbmlops.mlflow_gateway import registry as gw

    nb = Path(cfg.train.notebook)
    if not nb.exists():
        raise LoopError(f"train.notebook: no notebook {nb}.", path=str(nb))
    if cfg.train.data_parameter not in _declared(nb):
        raise LoopError(f"train.notebook: {nb} has no parameters cell declaring "
                        f"'{cfg.train.data_parameter}' (tag a cell 'parameters' with "
                        f"{cfg.train.data_parameter} = \"...\"; the loop passes the snapshot).",
                        parameter=cfg.train.data_parameter, path=str(nb))
    if not Path(cfg.monitor.log).exists():
        raise LoopError(f"monitor.log: no prediction log at {cfg.monitor.log}.",
                        path=cfg.monitor.log)
    cl = gw.client(project.tracking_uri)
    if gw.by_alias(cl, cfg.model, cfg.promote.alias) is None:
        raise LoopError(f"promote.alias: {cfg.model}@{cfg.promote.alias} does not exist "
                        f"(register a first version and promote it: nbmlops model promote "
                        f"{cfg.model} 1 --to {cfg.promote.alias} ...).", model=cfg.model)


def _declared(nb: Path) -> set[str]:
    import ast

    cells = json.loads(nb.read_text(encoding="utf-8")).get("cells", [])
    for cell in cells:
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            src = "".join(cell.get("source", ""))
            try:
                tree = ast.parse(src)
            except SyntaxError:
                return set()
            names: set[str] = set()
            for node in tree.body:
                targets = node.targets if isinstance(node, ast.Assign) else \
                    [node.target] if isinstance(node, ast.AnnAssign) else []
                names.update(t.id for t in targets if isinstance(t, ast.Name))
            return names
    return set()


RUNNERS = {"check": check, "snapshot": snapshot, "train": train, "register": register,
           "validate": validate, "approve": approve}
