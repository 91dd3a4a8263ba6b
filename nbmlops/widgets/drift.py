"""``nbmlops.drift_panel(...)``: resolve the inputs, compare (or watch a log), show the panel.

The inputs are resolved by :mod:`nbmlops.drift.inputs` exactly as for
``%mlops drift`` and the CI gate (``nbmlops drift``), so the three judge the
same reference under the same rules. Live mode is a headless
:class:`~nbmlops.drift.monitor.DriftMonitor` whose reports go to the panel.
"""

from __future__ import annotations

import os
from typing import Any

from nbmlops.exceptions import DriftError
from nbmlops.widgets.drift_panel import DriftPanel


def drift_panel(
    profile: Any,
    current: Any = None,
    *,
    time_column: str | None = None,
    window: Any = None,
    config: Any = None,
    live: str | float | None = None,
    export_path: str | os.PathLike[str] | None = None,
    **inputs: Any,
) -> DriftPanel:
    """Compare ``current`` with a reference and return the interactive panel.

    Parameters
    ----------
    profile
        A fitted :class:`~nbmlops.drift.profile.ReferenceProfile`, a path to
        its JSON, reference data (DataFrame, file, ``name@version``) to fit
        one from, or an existing :class:`DriftReport` (then ``current`` is None).
    current
        Current data: DataFrame, Parquet/CSV/JSONL file, folder or glob, or a
        snapshot name. In live mode, the growing file or folder.
    time_column, window
        Windowing (``window="1D"`` on ``time_column``, or a row count); the time
        column defaults as everywhere (:func:`~nbmlops.drift.windows.default_time_column`).
    config
        :class:`DriftConfig`, dict or YAML path; default: the project's
        ``drift_config`` file when it exists, else the default rules.
    live
        Poll interval (``"30s"``) to watch ``current`` for new rows.
    export_path
        Where "export config" writes (default: the project's ``drift_config``).
    **inputs
        ``target``, ``prediction`` and ``exclude`` (used when a profile is fitted
        here, :func:`~nbmlops.drift.inputs.resolve_reference`); the rest is
        passed to :func:`nbmlops.drift.engine.compare` (``labels``, ``id_column`` ...).

    Returns
    -------
    DriftPanel
    """
    from nbmlops.drift.inputs import default_config_path, resolve_config, resolve_reference
    from nbmlops.drift.report import DriftReport
    from nbmlops.drift.tail import parse_interval
    from nbmlops.drift.windows import default_time_column

    interval = parse_interval(live) if live else None
    export = export_path or default_config_path()
    if isinstance(profile, DriftReport):
        if current is not None or live:
            raise DriftError("Pass either a DriftReport or a profile and current data.",
                             parameter="current")
        keep = config is None and not default_config_path().is_file()
        return DriftPanel(profile if keep else profile.with_config(resolve_config(config)),
                          export_path=export)
    if current is None:
        raise DriftError("drift_panel needs current data (a DataFrame, file or folder).",
                         parameter="current")
    roles = {k: inputs.pop(k, None) for k in ("target", "prediction", "exclude")}
    ref = resolve_reference(profile, time_column=time_column, window=window, **roles)
    tcol = default_time_column(ref, window, time_column)
    if interval is not None:
        if inputs.get("labels") is not None:  # never silently ignored
            raise DriftError("labels= is not supported in live mode yet: compare the log "
                             "with its labels without live=.", parameter="labels")
        return _live_panel(ref, current, interval, (tcol, window, resolve_config(config)), export)
    if "progress" not in inputs:
        inputs["progress"] = None if not hasattr(current, "__len__") or \
            isinstance(current, str) else len(current) >= 1_000_000
    from nbmlops.drift.engine import compare

    report = compare(ref, current, time_column=tcol, window=window,
                     config=resolve_config(config), **inputs)
    return DriftPanel(report, export_path=export)


def _live_panel(profile: Any, current: Any, interval: float, windowing: tuple[Any, Any, Any],
                export: Any) -> DriftPanel:
    """A panel over a growing log, updated by a :class:`DriftMonitor`.

    ``windowing`` is ``(time_column, window, config)``.
    """
    from nbmlops.drift.monitor import DriftMonitor

    if not isinstance(current, str | os.PathLike):
        raise DriftError("Live mode watches a file or folder: pass its path as current.",
                         parameter="current")
    time_column, window, config = windowing
    monitor = DriftMonitor(profile, current, interval, lambda rep: panel.set_base(rep),
                           time_column=time_column, window=window, config=config,
                           on_status=lambda mon: panel.show_live_status(mon))
    # the rows present now are read once (with progress); the monitor then reads only new ones
    panel = DriftPanel(monitor.read_existing(progress=True), export_path=export)
    panel.monitor = monitor
    monitor.start()
    panel.show_live_status(monitor)
    return panel
