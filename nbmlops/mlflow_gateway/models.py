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
    MLflow's process-wide URI, which a notebook may have pointed elsewhere).
    """
    import os

    import mlflow
    import mlflow.pyfunc

    saved = os.environ.get("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR")
    os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = "false"  # no tqdm bars in cells/CI logs
    uris = (mlflow.get_tracking_uri(), mlflow.get_registry_uri())
    # mlflow.set_*_uri also write MLFLOW_*_URI into os.environ, which every child process
    # (kernels, nbmlops serve) would inherit: put the environment back as it was
    env = {k: os.environ.get(k) for k in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")}
    try:
        if tracking_uri:
            mlflow.set_tracking_uri(tracking_uri)
            mlflow.set_registry_uri(tracking_uri)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return mlflow.pyfunc.load_model(model_uri)
    finally:
        if tracking_uri:
            mlflow.set_tracking_uri(uris[0])
            mlflow.set_registry_uri(uris[1])
            for key, value in env.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        if saved is None:
            os.environ.pop("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", None)
        else:
            os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = saved


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
