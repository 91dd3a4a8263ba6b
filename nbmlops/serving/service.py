"""A serving process's state: the models (following their aliases), the logs, the metrics.

:class:`Service` resolves ``MODEL@ALIAS`` (and the canary/shadow aliases),
loads each version once, builds MLflow's scoring app around a
:class:`~nbmlops.serving.routing.Routing`, and scores through :meth:`Service.score`:
check the columns, predict (canary rows on the canary), score the shadow,
queue the log rows — all before the response goes out, so every 200 the
client sees is a queued log row. :meth:`Service.reload` re-reads the aliases
and swaps in a new app when one moved; requests already inside the old app
finish on the old version.
"""

from __future__ import annotations

import contextvars
import datetime as _dt
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from nbmlops.gates import AuditLog
from nbmlops.mlflow_gateway import client_for, scoring
from nbmlops.mlflow_gateway.scoring import BadRequestError, ModelVersion, ServingError
from nbmlops.serving.logger import LabelLog, RowMeta, labels_dir, prediction_columns, rows_table
from nbmlops.serving.metrics import ServingMetrics
from nbmlops.serving.options import ServeOptions
from nbmlops.serving.routing import Routing, Slot, check_frame, split_predict
from nbmlops.serving.writer import LogFullError, LogWriter, hour_dir

log = logging.getLogger("nbmlops.serving")


@dataclass
class Capture:
    """What one request learned inside MLflow's app (shared with its scoring thread)."""

    request_id: str
    t0: float
    version: str = ""
    status: int | None = None
    message: str | None = None
    column: str | None = None
    rows: int = 0


#: the current request's :class:`Capture` (MLflow scores in a thread that copies the context)
CAPTURE: contextvars.ContextVar[Capture] = contextvars.ContextVar("nbmlops_capture")


@dataclass
class Current:
    """The routing serving now and MLflow's scoring app built around it."""

    routing: Routing
    app: Any
    since: float = field(default_factory=time.time)


class Service:
    """Everything a serving process holds; the ASGI app (:mod:`.app`) is its front."""

    def __init__(self, opts: ServeOptions) -> None:
        self.opts = opts
        self.client = client_for(opts.tracking_uri)
        self.refs = {role: scoring.resolve(self.client, ref) for role, ref in opts.refs().items()}
        self.writer = LogWriter(opts.log_dir, opts.writer,
                                meta={"model_name": self.refs["primary"].name})
        self.labels = LabelLog(opts.labels_dir or labels_dir(opts.log_dir))
        self.metrics = ServingMetrics(lambda: {"predictions": self.writer,
                                               "labels": self.labels.writer})
        self.audit = AuditLog(opts.audit_log)
        self._slots: dict[tuple[str, str], Slot] = {}
        self._lock = threading.Lock()
        self.current = self._build(self.refs)
        self.switches: list[dict[str, Any]] = []
        self._check_key()

    def _check_key(self) -> None:
        columns = self.current.routing.primary.columns
        key = self.opts.canary_key
        if key and columns is not None and key not in {c.name for c in columns}:
            names = ", ".join(c.name for c in columns)
            raise ServingError(f"--canary-key {key!r} is not an input column of "
                               f"{self.name} ({names})", parameter="canary_key")

    @property
    def name(self) -> str:
        """The served model's registered name."""
        return self.refs["primary"].name

    # -- models ------------------------------------------------------------------------
    def _slot(self, mv: ModelVersion) -> Slot:
        key = (mv.name, mv.version)
        if key not in self._slots:
            model = scoring.load(mv, self.opts.tracking_uri)
            self._slots[key] = Slot(mv, model, scoring.input_columns(model))
        slot = self._slots[key]
        return Slot(mv, slot.model, slot.columns)

    def _build(self, refs: dict[str, ModelVersion]) -> Current:
        slots = {role: self._slot(mv) for role, mv in refs.items()}
        routing = Routing(slots["primary"], slots.get("canary"), self.opts.canary_share,
                          self.opts.canary_key, slots.get("shadow"))
        app = scoring.scoring_app(routing.primary.model,
                                  lambda data, params: self.score(routing, data, params))
        self.metrics.set_models(self.name, {r: (mv.alias or "", mv.version)
                                            for r, mv in refs.items()})
        return Current(routing, app)

    def reload(self) -> dict[str, Any]:
        """Re-read the aliases; swap in the new versions when one moved (the switch is audited)."""
        with self._lock:
            moved = {}
            for role, mv in self.refs.items():
                if mv.alias is None:
                    continue
                now = scoring.current_version(self.client, mv.name, mv.alias)
                if now is not None and now != mv.version:
                    moved[role] = ModelVersion(mv.name, mv.alias, now)
            if not moved:
                return {"switched": False, "versions": self.current.routing.versions()}
            old = self.current.routing.versions()
            refs = {**self.refs, **moved}
            self.current = self._build(refs)  # new requests go here; in-flight ones keep theirs
            self.refs = refs
            in_use = {(mv.name, mv.version) for mv in refs.values()}
            for key in [k for k in self._slots if k not in in_use]:
                del self._slots[key]  # in-flight requests hold their own reference
            record = {"event": "alias_switch", "model": self.name, "from": old,
                      "to": self.current.routing.versions(),
                      "aliases": {r: mv.alias for r, mv in moved.items()}}
            for mv in moved.values():
                self.metrics.switches.labels(mv.name, mv.alias or "").inc()
            self.switches.append(record)
            self.audit.append(record)
            log.warning("nbmlops serve: %s moved: %s -> %s", self.name, old, record["to"])
            return {"switched": True, "versions": record["to"], "from": old}

    # -- scoring (runs in MLflow's worker thread) ---------------------------------------
    def score(self, routing: Routing, data: Any, params: Any) -> Any:
        """Check, predict, shadow-score and queue the log rows of one request."""
        cap = CAPTURE.get(None) or Capture("", time.perf_counter())
        cap.version = routing.primary.ref.version
        try:
            frame = check_frame(data, routing.primary.columns)
        except BadRequestError as exc:
            cap.status, cap.message, cap.column = 400, exc.message, exc.column
            raise
        preds, versions = split_predict(frame, routing, params)
        latency_ms = (time.perf_counter() - cap.t0) * 1000
        columns = prediction_columns(preds)
        if routing.shadow is not None:
            columns.update(self._shadow(routing.shadow, frame, params))
        ref = routing.primary.ref
        now = _dt.datetime.now(_dt.timezone.utc)
        meta = RowMeta(cap.request_id, ref.name, ref.version, ref.alias or "", latency_ms, now)
        table = rows_table(frame, columns, meta, versions)
        if versions is not None and routing.canary is not None:
            table = _set_aliases(table, versions, routing)
        try:
            self.writer.put(table, hour_dir(now))
        except LogFullError as exc:
            cap.status, cap.message = 503, str(exc)
            raise BadRequestError(str(exc)) from None
        cap.rows = len(frame)
        self.metrics.observe_predictions(ref.name, ref.version, prediction_columns(preds))
        return preds

    def _shadow(self, slot: Slot, frame: Any, params: Any) -> dict[str, Any]:
        try:
            out = prediction_columns(scoring.predict(slot.model, frame, params),
                                     prefix="shadow_prediction")
        except Exception:  # a failing shadow never fails the request; it is counted
            self.metrics.shadow_errors.labels(slot.ref.name, slot.ref.version).inc()
            return {"shadow_prediction": [None] * len(frame)}
        return {**out, "shadow_version": [slot.ref.version] * len(frame)}

    # -- labels ----------------------------------------------------------------------------
    def feedback(self, items: list[dict[str, Any]]) -> int:
        """Queue late labels; return how many (ValueError names a bad field)."""
        try:
            n = self.labels.add(items)
        except LogFullError as exc:
            raise ServingError(str(exc)) from None
        self.metrics.labels.inc(n)
        return n

    def close(self, timeout: float = 30.0) -> bool:
        """Flush both logs; True when every queued row was written."""
        ok = self.writer.close(timeout)
        return self.labels.writer.close(timeout) and ok


def _set_aliases(table: Any, versions: list[str], routing: Routing) -> Any:
    import pyarrow as pa

    assert routing.canary is not None
    canary_v, canary_a = routing.canary.ref.version, routing.canary.ref.alias or ""
    primary_a = routing.primary.ref.alias or ""
    aliases = [canary_a if v == canary_v else primary_a for v in versions]
    i = table.column_names.index("model_alias")
    return table.set_column(i, "model_alias", pa.array(aliases, pa.string()))
