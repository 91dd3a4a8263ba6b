"""MLflow's pyfunc scoring app, and the registry look-ups a serving process needs.

``nbmlops serve`` serves a registered model through MLflow's own scoring app
(:func:`mlflow.pyfunc.scoring_server.init`, FastAPI): same routes, same request
and response formats as ``mlflow models serve``. The app is built around a
:class:`CapturingModel`, a thin stand-in for the loaded ``PyFuncModel`` whose
``predict`` checks the columns against the model's signature first (a 400 that
names the column) and hands the parsed input and the predictions to a hook, so
the serving layer logs exactly what the model saw and returned.

Nothing here knows about logging, metrics or canaries: that is ``nbmlops.serving``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from nbmlops.exceptions import NbmlopsError


class ServingError(NbmlopsError):
    """A model, alias or serving setting is unusable (names the choices)."""


class BadRequestError(Exception):
    """A request's input does not fit the model's signature (names the column)."""

    def __init__(self, message: str, column: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.column = column


@dataclasses.dataclass(frozen=True)
class ModelVersion:
    """A resolved registry reference: what ``name@alias`` points at now."""

    name: str
    alias: str | None
    version: str

    @property
    def uri(self) -> str:
        """The ``models:/`` URI of this exact version."""
        return f"models:/{self.name}/{self.version}"


def parse_ref(ref: str) -> tuple[str, str | None, str | None]:
    """``name@alias`` / ``name/3`` / ``name`` -> (name, alias, version)."""
    ref = ref.removeprefix("models:/")
    if "@" in ref:
        name, _, alias = ref.partition("@")
        return name, alias, None
    if "/" in ref:
        name, _, version = ref.partition("/")
        return name, None, version
    return ref, None, None


def resolve(client: Any, ref: str) -> ModelVersion:
    """The version ``ref`` names now; unknown model/alias lists the registry's choices.

    Raises
    ------
    ServingError
        When the model, alias or version does not exist.
    """
    from mlflow.exceptions import MlflowException

    name, alias, version = parse_ref(ref)
    try:
        client.get_registered_model(name)
    except MlflowException:
        names = sorted(m.name for m in client.search_registered_models(max_results=200))
        raise ServingError(f"no registered model {name!r}; registered models: "
                           f"{', '.join(names) or '(none)'}", model=name) from None
    if alias is not None:
        try:
            mv = client.get_model_version_by_alias(name, alias)
        except MlflowException:
            aliases = sorted(client.get_registered_model(name).aliases)
            raise ServingError(f"model {name!r} has no alias {alias!r}; its aliases: "
                               f"{', '.join(aliases) or '(none)'}", model=name) from None
        return ModelVersion(name, alias, str(mv.version))
    if version is None:
        versions = client.search_model_versions(f"name='{name}'")
        version = str(max(int(v.version) for v in versions)) if versions else None
        if version is None:
            raise ServingError(f"model {name!r} has no versions", model=name)
    try:
        client.get_model_version(name, version)
    except MlflowException:
        raise ServingError(f"model {name!r} has no version {version}", model=name) from None
    return ModelVersion(name, None, version)


def current_version(client: Any, name: str, alias: str) -> str | None:
    """The version ``name@alias`` points at now (None: alias gone or store unreachable)."""
    from mlflow.exceptions import MlflowException

    try:
        return str(client.get_model_version_by_alias(name, alias).version)
    except (MlflowException, OSError):
        return None


def load(mv: ModelVersion, tracking_uri: str) -> Any:
    """Load ``mv`` as a pyfunc model from the registry at ``tracking_uri``."""
    import mlflow
    import mlflow.pyfunc

    # the registry of a serving process is the project's store (one process, one store)
    use_fluent_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    return mlflow.pyfunc.load_model(mv.uri)


@dataclasses.dataclass(frozen=True)
class Column:
    """One input column of a model signature."""

    name: str
    kind: str  # MLflow type name: double, float, long, integer, string, boolean, datetime...
    required: bool = True


def input_columns(model: Any) -> list[Column] | None:
    """The named input columns of ``model``'s signature (None: no column signature)."""
    schema = model.metadata.get_input_schema()
    if schema is None or not schema.has_input_names():
        return None
    out = []
    for spec in schema.inputs:
        kind = getattr(getattr(spec, "type", None), "name", str(getattr(spec, "type", "")))
        out.append(Column(str(spec.name), str(kind), bool(getattr(spec, "required", True))))
    return out


class CapturingModel:
    """A stand-in for a ``PyFuncModel`` that MLflow's scoring app calls.

    ``predict(data)`` runs ``check(data)`` (raises :class:`BadRequestError`), then the
    real model through ``score(data)``, and returns what the real model returned.
    The serving layer supplies both callables.
    """

    def __init__(self, model: Any, score: Callable[[Any, Any], Any]) -> None:
        self._model = model
        self._score = score
        self.metadata = model.metadata

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        """Score ``data`` through the serving layer (MLflow's app calls this in a thread)."""
        from mlflow.exceptions import MlflowException
        from mlflow.protos.databricks_pb2 import BAD_REQUEST

        try:
            return self._score(data, params)
        except BadRequestError as exc:
            raise MlflowException(exc.message, error_code=BAD_REQUEST) from None


def predict(model: Any, data: Any, params: dict[str, Any] | None = None) -> Any:
    """The real model's prediction (params passed when given)."""
    return model.predict(data, params=params) if params else model.predict(data)


def scoring_app(model: Any, score: Callable[[Any, Any], Any]) -> Any:
    """MLflow's FastAPI scoring app around ``model``, scoring through ``score``."""
    from mlflow.pyfunc import scoring_server

    return scoring_server.init(CapturingModel(model, score))  # type: ignore[arg-type]


def mlflow_version() -> str:
    """The installed MLflow version (the scoring app's ``/version``)."""
    from mlflow.version import VERSION

    return str(VERSION)


def register_sklearn(tracking_uri: str, name: str, model: Any, example: Any,
                     alias: str | None = None) -> str:
    """Log an sklearn ``model`` (signature from ``example``), register it; return its version.

    For examples, tests and benchmarks: a real registered model in one call.
    """
    import mlflow
    import mlflow.sklearn
    from mlflow.models import infer_signature

    use_fluent_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    signature = infer_signature(example, model.predict(example))
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(model, name="model", signature=signature,
                                        registered_model_name=name)
    version = str(info.registered_model_version)
    if alias:
        mlflow.MlflowClient(tracking_uri=tracking_uri).set_registered_model_alias(
            name, alias, version)
    return version


def set_alias(tracking_uri: str, name: str, alias: str, version: str) -> None:
    """Point ``name@alias`` at ``version``."""
    from nbmlops.mlflow_gateway import client_for

    client_for(tracking_uri).set_registered_model_alias(name, alias, version)


def use_fluent_uri(uri: str) -> None:
    """Point MLflow's fluent API at ``uri`` (see :func:`nbmlops.mlflow_gateway.use_fluent_uri`)."""
    from nbmlops.mlflow_gateway import use_fluent_uri as _use

    _use(uri)
