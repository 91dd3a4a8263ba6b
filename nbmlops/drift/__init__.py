"""Drift engine: fit a reference once, compare current data from summaries.

>>> import nbmlops.drift as drift                                # doctest: +SKIP
>>> profile = drift.fit_reference(train_df, target="y", prediction="score")
>>> report = profile.compare(live_df, time_column="ts", window="1D")
>>> report.summary()

Public names are resolved lazily (numpy/pandas/scipy load on first use).
"""

from __future__ import annotations

from nbmlops._lazy import lazy_face

_LAZY: dict[str, str] = {
    "fit_reference": "nbmlops.drift.profile:fit_reference",
    "ReferenceProfile": "nbmlops.drift.profile:ReferenceProfile",
    "load_profile": "nbmlops.drift.profile:load_profile",
    "compare": "nbmlops.drift.engine:compare",
    "DriftReport": "nbmlops.drift.report:DriftReport",
    "FeatureResult": "nbmlops.drift.results:FeatureResult",
    "WindowResult": "nbmlops.drift.results:WindowResult",
    "BinData": "nbmlops.drift.results:BinData",
    "DriftConfig": "nbmlops.drift.config:DriftConfig",
    "MethodSpec": "nbmlops.drift.config:MethodSpec",
    "run_gate": "nbmlops.drift.gate:run_gate",
    "GateOptions": "nbmlops.drift.gate:GateOptions",
    "DriftMonitor": "nbmlops.drift.monitor:DriftMonitor",
}

__all__ = sorted(_LAZY)

# public names resolve on first access (PEP 562), so importing the area stays cheap
__getattr__, __dir__ = lazy_face(__name__, _LAZY, globals())
