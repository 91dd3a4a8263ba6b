"""MLflow Model Registry calls: registered models, versions, aliases, version tags.

Every registry read and write of nbmlops goes through these functions, with
the gateway's client policy (:func:`nbmlops.mlflow_gateway.client_for`,
:func:`~nbmlops.mlflow_gateway.few_retries`). MLflow's "does not exist"
errors become ``None`` / empty lists so callers can name what exists instead.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbmlops.mlflow_gateway import client_for, few_retries


@dataclass
class VersionInfo:
    """One model version as nbmlops reads it."""

    name: str
    version: str
    run_id: str | None
    source: str
    created: int
    aliases: list[str] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def uri(self) -> str:
        """``models:/name/version``."""
        return f"models:/{self.name}/{self.version}"


def _info(mv: Any) -> VersionInfo:
    return VersionInfo(str(mv.name), str(mv.version), mv.run_id, str(mv.source),
                       int(mv.creation_timestamp or 0), list(mv.aliases or []),
                       dict(mv.tags or {}))


def _missing(exc: Exception) -> bool:
    return "RESOURCE_DOES_NOT_EXIST" in str(getattr(exc, "error_code", "")) or \
        "not found" in str(exc).lower() or "does not exist" in str(exc).lower()


def client(uri: str) -> Any:
    """The registry client for ``uri`` (tracking and registry share the store)."""
    from mlflow import MlflowClient

    client_for(uri)  # quiets store-creation logs
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def model_names(cl: Any) -> list[str]:
    """Names of every registered model."""
    with few_retries():
        return sorted(m.name for m in cl.search_registered_models(max_results=1000))


def versions(cl: Any, name: str) -> list[VersionInfo]:
    """Every version of ``name``, oldest first (empty when the model does not exist)."""
    from mlflow.exceptions import MlflowException

    with few_retries():
        try:
            found = cl.search_model_versions(f"name = '{name}'", max_results=10000)
        except MlflowException as exc:
            if _missing(exc):
                return []
            raise
        return sorted((_info(cl.get_model_version(name, mv.version)) for mv in found),
                      key=lambda v: int(v.version))


def version(cl: Any, name: str, number: str) -> VersionInfo | None:
    """Version ``number`` of ``name``, or None."""
    from mlflow.exceptions import MlflowException

    with few_retries():
        try:
            return _info(cl.get_model_version(name, str(number)))
        except MlflowException as exc:
            if _missing(exc):
                return None
            raise


def by_alias(cl: Any, name: str, alias: str) -> VersionInfo | None:
    """The version holding ``name@alias``, or None."""
    from mlflow.exceptions import MlflowException

    with few_retries():
        try:
            return _info(cl.get_model_version_by_alias(name, alias))
        except MlflowException as exc:
            if _missing(exc):
                return None
            raise


def aliases(cl: Any, name: str) -> dict[str, str]:
    """``alias -> version`` of ``name`` (empty when the model does not exist)."""
    from mlflow.exceptions import MlflowException

    with few_retries():
        try:
            model = cl.get_registered_model(name)
        except MlflowException as exc:
            if _missing(exc):
                return {}
            raise
        return {str(k): str(v) for k, v in (model.aliases or {}).items()}


def run_model_uri(cl: Any, run_id: str) -> tuple[str, str | None] | None:
    """``(source, model_id)`` of the newest model logged by run ``run_id`` (autolog), or None."""
    run = cl.get_run(run_id)
    with few_retries():
        found = cl.search_logged_models([run.info.experiment_id],
                                        filter_string=f"source_run_id = '{run_id}'")
    models = sorted(found, key=lambda m: m.creation_timestamp or 0)
    if not models:
        return None
    return f"models:/{models[-1].model_id}", models[-1].model_id


def run_facts(cl: Any, run_id: str) -> dict[str, Any]:
    """Tags and dataset inputs of run ``run_id`` (for a version's lineage)."""
    run = cl.get_run(run_id)
    inputs = getattr(run, "inputs", None)
    datasets = []
    for d in getattr(inputs, "dataset_inputs", None) or []:
        context = {t.key: t.value for t in d.tags}.get("mlflow.data.context", "")
        datasets.append({"name": d.dataset.name, "context": context})
    return {"tags": dict(run.data.tags), "datasets": datasets,
            "experiment_id": run.info.experiment_id}


def create_version(cl: Any, name: str, source: str, run_id: str | None,
                   tags: dict[str, str], model_id: str | None = None) -> VersionInfo:
    """Register ``source`` as a new version of ``name`` (the model is created when missing)."""
    from mlflow.exceptions import MlflowException

    with few_retries():
        try:
            cl.create_registered_model(name)
        except MlflowException as exc:
            if "RESOURCE_ALREADY_EXISTS" not in str(getattr(exc, "error_code", "")):
                raise
        mv = cl.create_model_version(name, source, run_id=run_id, tags=tags, model_id=model_id)
        return _info(mv)


def set_alias(cl: Any, name: str, alias: str, number: str) -> None:
    """Point ``name@alias`` at version ``number``."""
    with few_retries():
        cl.set_registered_model_alias(name, alias, str(number))


def set_tags(cl: Any, name: str, number: str, tags: dict[str, str]) -> None:
    """Set tags on version ``number`` of ``name`` (values cut to MLflow's 5000 characters)."""
    with few_retries():
        for key, value in tags.items():
            cl.set_model_version_tag(name, str(number), key, str(value)[:5000])


def log_texts(cl: Any, run_id: str, files: dict[str, str]) -> None:
    """Upload text files (``relative path -> text``) as artifacts of run ``run_id``."""
    with tempfile.TemporaryDirectory(prefix="nbmlops-reg-") as tmp, few_retries():
        for rel, text in files.items():
            path = Path(tmp, rel)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        cl.log_artifacts(run_id, tmp)
