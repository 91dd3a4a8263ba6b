"""Serve a registered model with prediction logging, late labels, canary/shadow and metrics.

>>> from nbmlops.serving import ServeOptions, serve, Bind                    # doctest: +SKIP
>>> serve(ServeOptions("fraud@champion", uri, "logs/predictions"), Bind(port=8080))
>>> logger = PredictionLogger("logs/predictions")   # for users who serve elsewhere
>>> logger.log(features_df, predictions, model="fraud", version=7)          # doctest: +SKIP

Public names are resolved lazily (MLflow, pyarrow and uvicorn load on first use).
"""

from __future__ import annotations

from nbmlops._lazy import lazy_face

_LAZY: dict[str, str] = {
    "PredictionLogger": "nbmlops.serving.logger:PredictionLogger",
    "LabelLog": "nbmlops.serving.logger:LabelLog",
    "labels_dir": "nbmlops.serving.logger:labels_dir",
    "WriterOptions": "nbmlops.serving.writer:WriterOptions",
    "LogWriter": "nbmlops.serving.writer:LogWriter",
    "ServeOptions": "nbmlops.serving.options:ServeOptions",
    "Service": "nbmlops.serving.service:Service",
    "ServingApp": "nbmlops.serving.app:ServingApp",
    "Bind": "nbmlops.serving.server:Bind",
    "build": "nbmlops.serving.server:build",
    "serve": "nbmlops.serving.server:serve",
    "ServingError": "nbmlops.mlflow_gateway.scoring:ServingError",
}

__all__ = sorted(_LAZY)

# public names resolve on first access (PEP 562), so importing the area stays cheap
__getattr__, __dir__ = lazy_face(__name__, _LAZY, globals())
