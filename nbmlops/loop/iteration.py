"""One iteration of the loop: check -> snapshot -> train -> register -> validate -> approve.

Every step is an MLflow child run of the iteration's parent run and one
entry of ``.nbmlops/loop_audit.jsonl``; the state file is written after each
step, so ``run_once`` after a crash continues where it stopped.
"""

from __future__ import annotations

import datetime as _dt
import os
import time

from nbmlops.config import NbmlopsConfig, load_config
from nbmlops.loop import state as st
from nbmlops.loop.approvals import audit
from nbmlops.loop.config import LoopConfig, load_loop_config
from nbmlops.loop.result import IterationResult, StepOutcome
from nbmlops.loop.steps import RUNNERS, STEPS, Ctx, Done, check_inputs
from nbmlops.run_record import RunRecord, now_ms

#: debug/test hook: stop the process (exit 3) right after this step is recorded done
STOP_AFTER_ENV = "NBMLOPS_LOOP_STOP_AFTER"


def run_once(config: LoopConfig | None = None, *, now: _dt.datetime | None = None,
             project: NbmlopsConfig | None = None,
             stop_after: str | None = None) -> IterationResult:
    """Run (or resume) one iteration; see the module docstring.

    Parameters
    ----------
    config
        The loop (default :func:`load_loop_config`).
    now
        The iteration's time (default: now, UTC); a resumed iteration keeps its own.
    project
        nbmlops settings (default :func:`~nbmlops.config.load_config`).
    stop_after
        Debug: return right after this step is recorded (to test resuming).

    Raises
    ------
    LoopError
        Bad input (exit code 2) before anything is written.
    """
    cfg = config or load_loop_config()
    proj = project or load_config()
    root = proj.project_root
    state = st.load_state(root, cfg.model)
    if state is None:
        check_inputs(cfg, proj)
        waiting = _awaiting_sign_off(cfg, proj)
        if waiting is not None:
            return waiting
        when = (now or _dt.datetime.now(_dt.timezone.utc)).astimezone(_dt.timezone.utc)
        state = st.IterationState(model=cfg.model, now=when.isoformat())
        state.parent_run_id = _parent_run(proj, cfg, state)
        st.save_state(root, state)
    ctx = Ctx(cfg, proj, state)
    result = IterationResult(state.iteration, cfg.model, "failed",
                             parent_run_id=state.parent_run_id)
    for name in STEPS:
        if state.done(name):
            result.steps.append(StepOutcome(name, "done", state.value(name, "detail") or "",
                                            state.value(name, "run_id")))
        else:
            outcome = _step(ctx, name)
            result.steps.append(StepOutcome(name, outcome.status, outcome.detail,
                                            outcome.run_id))
            if outcome.status != "done":
                return _end(ctx, result, "waiting" if outcome.status == "waiting" else "failed",
                            outcome.detail)
        if name == "check" and not state.value("check", "triggered"):
            return _end(ctx, result, "no-trigger", state.value("check", "detail") or "")
        if name == "register":
            result.candidate = str(state.value("register", "version"))
        if (stop_after or os.environ.get(STOP_AFTER_ENV)) == name:
            result.outcome, result.message = "waiting", f"stopped after {name} (debug)"
            return result
    pending = bool(state.value("approve", "pending"))
    return _end(ctx, result, "pending-approval" if pending else "promoted",
                state.value("approve", "detail") or "")


def _awaiting_sign_off(cfg: LoopConfig, proj: NbmlopsConfig) -> IterationResult | None:
    """A candidate still waiting for a human: no new iteration.

    A new one would retrain on the same window and ask again, every ``--watch`` period.
    """
    from nbmlops.loop.approvals import pending_approvals

    pending = pending_approvals(cfg.model, config=proj)
    if not pending:
        return None
    last = pending[-1]
    return IterationResult(last.iteration, cfg.model, "pending-approval", candidate=last.version,
                           message=f"{cfg.model} v{last.version} still waits for a sign-off; "
                                   "no new iteration until it is approved or rejected "
                                   "(nbmlops approvals).")


def _step(ctx: Ctx, name: str) -> Done:
    """Run one step as a child run; record it in the state and the audit log."""
    root, state = ctx.project.project_root, ctx.state
    st.mark(root, state, name, "started", started_at=time.time())
    t0 = time.monotonic()
    outcome = RUNNERS[name](ctx)
    seconds = round(time.monotonic() - t0, 2)
    if outcome.run_id is None:
        outcome.run_id = _child_run(ctx, name, outcome, seconds)
    if outcome.status == "done":
        st.mark(root, state, name, "done", **{**outcome.values, "detail": outcome.detail,
                                              "run_id": outcome.run_id, "seconds": seconds})
    else:  # waiting / failed: not done, a re-run does it again
        st.mark(root, state, name, outcome.status, detail=outcome.detail, seconds=seconds)
    audit(ctx.project, {"event": "loop", "step": name, "model": ctx.cfg.model,
                        "iteration": state.iteration, "status": outcome.status,
                        "detail": outcome.detail, "run_id": outcome.run_id, "seconds": seconds})
    return outcome


def _end(ctx: Ctx, result: IterationResult, outcome: str, message: str) -> IterationResult:
    result.outcome, result.message = outcome, message
    state = ctx.state
    audit(ctx.project, {"event": "loop", "step": "iteration", "model": ctx.cfg.model,
                        "iteration": state.iteration, "outcome": outcome, "detail": message,
                        "candidate": result.candidate, "parent_run_id": state.parent_run_id})
    if outcome == "failed":
        _alert(ctx, result)
    # waiting for labels keeps the iteration open (same windows next time); waiting for
    # traffic (nothing to check yet) closes it, so the next run looks at a new window
    if outcome != "waiting" or not state.done("check"):
        _finish_parent(ctx, outcome)
        state.outcome = outcome
        st.save_state(ctx.project.project_root, state)
    return result


def _record(proj: NbmlopsConfig, name: str, **tags: str) -> RunRecord:
    rec = RunRecord(tracking_uri=proj.tracking_uri, experiment=proj.experiment, run_name=name)
    rec.tags.update({"nbmlops.kind": "loop", **tags})
    return rec


def _parent_run(proj: NbmlopsConfig, cfg: LoopConfig, state: st.IterationState) -> str:
    from nbmlops.mlflow_gateway import client_for, create_run, few_retries

    rec = _record(proj, f"loop {cfg.model} {state.iteration}", **{
        "nbmlops.loop.model": cfg.model, "nbmlops.loop.iteration": state.iteration,
        "nbmlops.loop.now": state.now, "nbmlops.loop.config": cfg.source})
    with few_retries():
        return create_run(client_for(proj.tracking_uri), rec, proj.artifact_root)


def _child_run(ctx: Ctx, name: str, outcome: Done, seconds: float) -> str:
    from nbmlops.mlflow_gateway import client_for, write

    rec = _record(ctx.project, f"loop:{name}", **{"nbmlops.loop.step": name,
                                                  "nbmlops.loop.status": outcome.status,
                                                  "nbmlops.loop.detail": outcome.detail[:4000]})
    rec.parent_run_id = ctx.state.parent_run_id
    rec.status = "FAILED" if outcome.status == "failed" else "FINISHED"
    rec.add_metric("loop.seconds", float(seconds))
    rec.end_time = now_ms()
    return write(client_for(ctx.project.tracking_uri), rec, ctx.project.artifact_root)


def _finish_parent(ctx: Ctx, outcome: str) -> None:
    from nbmlops.mlflow_gateway import client_for, write

    rec = _record(ctx.project, f"loop {ctx.cfg.model} {ctx.state.iteration}",
                  **{"nbmlops.loop.outcome": outcome})
    rec.run_id = ctx.state.parent_run_id
    rec.status = "FAILED" if outcome == "failed" else "FINISHED"
    rec.end_time = now_ms()
    write(client_for(ctx.project.tracking_uri), rec, ctx.project.artifact_root)


def _alert(ctx: Ctx, result: IterationResult) -> None:
    """POST the failure to the configured ``webhook:URL``; its outcome goes to the audit."""
    if not ctx.cfg.alert:
        return
    from nbmlops.drift.alerts import Webhook

    sent = Webhook(ctx.cfg.alert.removeprefix("webhook:")).send({
        "event": "loop-failed", "model": ctx.cfg.model, "iteration": result.iteration,
        "reason": result.message, "candidate": result.candidate,
        "time": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")})
    audit(ctx.project, {"event": "loop-alert", "model": ctx.cfg.model,
                        "iteration": result.iteration, "alert": sent})


def watch(config: LoopConfig | None = None, every: str = "1h",
          iterations: int | None = None) -> list[IterationResult]:
    """Run :func:`run_once` every ``every`` (forever, or ``iterations`` times)."""
    from nbmlops.loop.data import span

    period = span(every, "--watch").total_seconds()
    done: list[IterationResult] = []
    while iterations is None or len(done) < iterations:
        t0 = time.monotonic()
        result = run_once(config)
        print(result.table(), flush=True)
        done.append(result)
        if iterations is not None and len(done) >= iterations:
            break
        time.sleep(max(0.0, period - (time.monotonic() - t0)))
    return done


