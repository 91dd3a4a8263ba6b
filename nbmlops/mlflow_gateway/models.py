"""Logged models through MLflow: load a pyfunc, predict scores, log a model object.

The registry's validation gate and the serving area load models here; the
only MLflow model-flavour calls of nbmlops live in this module.

>>> model = load_pyfunc("models:/fraud@champion")              # doctest: +SKIP
>>> scores = predict_scores(load_scorer("models:/fraud/3"), holdout)  # doctest: +SKIP
"""

from __future__ import annotations

import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def load_pyfunc(model_uri: str, tracking_uri: str | None = None) -> Any:
    """The MLflow pyfunc model at ``model_uri`` (``models:/name/3``, ``models:/name@alias``).

    ``tracking_uri``: the store whose registry resolves ``models:/`` URIs (default:
    MLflow's process-wide URI). With it, the model's files are fetched with that
    store named explicitly (``mlflow.artifacts.download_artifacts``) and loaded
    from the local copy: MLflow's process-wide URIs and ``MLFLOW_*_URI``
    variables, which kernels and ``nbmlops serve`` children inherit, are never
    touched (a notebook's own ``mlflow.set_tracking_uri`` stays as it was).
    """
    import os
    import tempfile

    import mlflow.artifacts
    import mlflow.pyfunc

    saved = os.environ.get("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR")
    os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = "false"  # no tqdm bars in cells/CI logs
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if tracking_uri:
                # kept for the model's life, as mlflow.pyfunc.load_model keeps its own copy
                model_uri = mlflow.artifacts.download_artifacts(
                    artifact_uri=_storage_uri(model_uri, tracking_uri), tracking_uri=tracking_uri,
                    registry_uri=tracking_uri, dst_path=tempfile.mkdtemp(prefix="nbmlops-model-"))
            return mlflow.pyfunc.load_model(model_uri)
    finally:
        if saved is None:
            os.environ.pop("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", None)
        else:
            os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = saved


def _storage_uri(model_uri: str, tracking_uri: str) -> str:
    """Where the files of ``models:/name@alias`` or ``models:/name/N`` are stored.

    Asked of the registry at ``tracking_uri``: MLflow's own ``models:/``
    resolver reads the process-wide registry URI. Any other URI is returned as it is.
    """
    from mlflow import MlflowClient

    if not model_uri.startswith("models:/"):
        return model_uri
    ref = model_uri.removeprefix("models:/")
    name, _, alias = ref.partition("@")
    version = ""
    if not alias:
        name, _, version = ref.partition("/")
        if not version.isdigit():  # a logged model id or a stage: MLflow's resolver
            return model_uri
    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    if alias:
        version = str(client.get_model_version_by_alias(name, alias).version)
    return str(client.get_model_version_download_uri(name, version))


@dataclass
class Scorer:
    """A loaded model that gives scores: probabilities when it can, else predictions.

    Attributes
    ----------
    uri
        Where it was loaded from.
    native
        The flavour's own object (a fitted sklearn estimator) or None.
    pyfunc
        The pyfunc model (signature, generic ``predict``).
    """

    uri: str
    native: Any
    pyfunc: Any

    @property
    def has_proba(self) -> bool:
        """Whether the model gives class probabilities (``predict_proba``)."""
        return self.native is not None and hasattr(self.native, "predict_proba")

    def input_columns(self) -> list[tuple[str, str]]:
        """``(column, MLflow type)`` of the model's input signature (empty: no signature)."""
        schema = self.pyfunc.metadata.get_input_schema()
        if schema is None or not schema.has_input_names():
            return []
        return [(spec.name, str(getattr(spec.type, "name", spec.type)))
                for spec in schema.inputs]


def load_scorer(model_uri: str, tracking_uri: str | None = None) -> Scorer:
    """Load ``model_uri`` as a :class:`Scorer` (native sklearn object when logged as sklearn)."""
    pyfunc = load_pyfunc(model_uri, tracking_uri)
    native = pyfunc.get_raw_model() if "sklearn" in pyfunc.metadata.flavors else None
    return Scorer(model_uri, native, pyfunc)


def predict_scores(scorer: Scorer, frame: Any) -> Any:
    """Scores of ``frame``: class probabilities (n, k) when the model has them, else predictions."""
    import numpy as np

    if scorer.has_proba:
        return np.asarray(scorer.native.predict_proba(frame))
    target = scorer.native if scorer.native is not None else scorer.pyfunc
    return np.asarray(target.predict(frame))


def log_model(client: Any, run_id: str, model: Any, input_example: Any = None,
              artifact_path: str = "model") -> str:
    """Save ``model`` (sklearn-compatible, picklable) as artifacts of run ``run_id``.

    Written with the sklearn flavour (pyfunc loadable) to a temporary folder
    and uploaded with the client, so no fluent active run is needed and the
    run is not re-opened. Returns the model URI ``runs:/<run_id>/<artifact_path>``.
    """
    from mlflow.models import infer_signature

    signature = None
    if input_example is not None:
        signature = infer_signature(input_example, model.predict(input_example))
    with tempfile.TemporaryDirectory(prefix="nbmlops-model-") as tmp:
        path = Path(tmp, artifact_path)
        _save(model, path, signature)
        client.log_artifacts(run_id, str(path), artifact_path)
    return f"runs:/{run_id}/{artifact_path}"


def _save(model: Any, path: Path, signature: Any) -> None:
    """MLflow's safe default (skops); cloudpickle for types skops does not trust (own classes)."""
    import shutil

    import mlflow.sklearn
    from mlflow.exceptions import MlflowException

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            mlflow.sklearn.save_model(model, str(path), signature=signature)
        except MlflowException as exc:
            if "untrusted types" not in str(exc):
                raise
            shutil.rmtree(path, ignore_errors=True)
            mlflow.sklearn.save_model(
                model, str(path), signature=signature,
                serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_CLOUDPICKLE)
