"""Register the model a run produced as a new version with its lineage, alias ``@challenger``."""

from __future__ import annotations

from typing import Any

from nbmlops.config import NbmlopsConfig, load_config
from nbmlops.mlflow_gateway import models as gm
from nbmlops.mlflow_gateway import registry as gw
from nbmlops.registry import record as rec
from nbmlops.registry.refs import RegistryError


def register(name: str, run: Any, model: Any = None, input_example: Any = None,
             alias: str = "challenger", threshold: float | None = None,
             config: NbmlopsConfig | None = None) -> gw.VersionInfo:
    """Register run ``run``'s model as the next version of ``name`` and set ``@alias``.

    Parameters
    ----------
    name
        Registered model name (created on first use).
    run
        The run: a run id or a result with ``run_id`` (what ``%%mlops run`` returns).
    model
        A fitted model object to log (sklearn API); default: the model MLflow's
        autolog logged in that run.
    input_example
        A few feature rows: the logged model then carries a signature.
    alias
        Alias set on the new version (default ``challenger``).
    threshold
        The version's operating threshold for binary classification (tag
        ``nbmlops.threshold``; validation uses the champion's).
    config
        Settings (default :func:`~nbmlops.config.load_config`).

    Returns
    -------
    VersionInfo
        The new version, with its lineage tags: ``nbmlops.run_id``,
        ``nbmlops.trained_by``, ``nbmlops.git_commit``, ``nbmlops.notebook``,
        ``nbmlops.data`` (the run's dataset inputs, e.g. ``train@3``).
    """
    cfg = config or load_config()
    run_id = str(getattr(run, "run_id", run) or "")
    if not run_id:
        raise RegistryError("register needs a run (the run had no id: was it spooled offline?).",
                            parameter="run")
    cl = gw.client(cfg.tracking_uri)
    try:
        facts = gw.run_facts(cl, run_id)
    except Exception as exc:
        raise RegistryError(f"no run {run_id!r} in {cfg.tracking_uri}: {exc}",
                            run_id=run_id) from None
    model_id = None
    if model is not None:
        source = gm.log_model(cl, run_id, model, input_example)
    else:
        found = gw.run_model_uri(cl, run_id)
        if found is None:
            raise RegistryError(f"run {run_id} logged no model: pass the fitted model "
                                "(model=..., --model VAR) or keep sklearn autolog on.",
                                run_id=run_id)
        source, model_id = found
    tags = _lineage(run_id, facts, cfg)
    if threshold is not None:
        tags["nbmlops.threshold"] = str(float(threshold))
    info = gw.create_version(cl, name, source, run_id, tags, model_id=model_id)
    if alias:
        gw.set_alias(cl, name, alias, info.version)
    rec.audit_log(cfg).append({"event": "register", "model": name, "version": info.version,
                               "run_id": run_id, "alias": alias, "by": tags["nbmlops.trained_by"],
                               "data": tags["nbmlops.data"], "at": rec.now()})
    return gw.version(cl, name, info.version) or info


def _lineage(run_id: str, facts: dict[str, Any], cfg: NbmlopsConfig) -> dict[str, str]:
    tags = facts["tags"]
    data = sorted({d["name"] for d in facts["datasets"] if d["context"] != "evaluation"})
    return {
        "nbmlops.run_id": run_id,
        "nbmlops.trained_by": rec.current_user(cfg),
        "nbmlops.git_commit": tags.get("mlflow.source.git.commit", ""),
        "nbmlops.notebook": tags.get("mlflow.source.name", ""),
        "nbmlops.data": ",".join(data),
    }


def register_cell(spec: str, result: Any, namespace: dict[str, Any],
                  config: NbmlopsConfig | None = None) -> str:
    """What ``%%mlops run --register NAME[:VARIABLE]`` does after the cell; returns one line.

    ``NAME`` alone registers the model autolog logged; ``NAME:VARIABLE`` logs
    the fitted model held in ``VARIABLE``. A failed or spooled run registers nothing.
    """
    name, _, var = spec.partition(":")
    if not name.strip():
        raise RegistryError(f"--register expects NAME or NAME:VARIABLE, got {spec!r}.",
                            parameter="--register")
    if getattr(result, "status", "FINISHED") != "FINISHED" or getattr(result, "spooled", False):
        return f"nbmlops: not registered: the run is {getattr(result, 'status', '?')}" + \
            (" (spooled offline)" if getattr(result, "spooled", False) else "") + "."
    model = None
    if var:
        if var not in namespace:
            raise RegistryError(f"--register {spec}: no variable {var!r} in the notebook.",
                                parameter="--register")
        model = namespace[var]
    info = register(name.strip(), result, model=model, config=config)
    return (f"nbmlops: registered {info.name} v{info.version} (@challenger) from run "
            f"{info.run_id}; data: {info.tags.get('nbmlops.data') or '-'}")
