"""Watch a growing log and judge it against a reference, headless: a callback gets each report.

:class:`DriftMonitor` polls a :class:`~nbmlops.drift.tail.LogTail` every
``interval`` seconds on a background thread, feeds the new rows to an
:class:`~nbmlops.drift.accumulator.Accumulator` (summaries only: the rows are
dropped after each poll) and calls ``on_report`` with the re-derived
:class:`~nbmlops.drift.report.DriftReport`. A service or a retraining loop
passes its own callback; the drift panel passes ``panel.set_base``.

>>> monitor = DriftMonitor(profile, "logs/", 30, on_report=print, window="1h")  # doctest: +SKIP
>>> monitor.read_existing(); monitor.start()                                    # doctest: +SKIP
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

from nbmlops.drift.accumulator import Accumulator
from nbmlops.drift.config import DriftConfig
from nbmlops.drift.report import DriftReport
from nbmlops.drift.tail import LogTail
from nbmlops.drift.windows import default_time_column
from nbmlops.exceptions import DriftError


class DriftMonitor:
    """Poll a growing log every ``interval`` seconds and report drift through a callback.

    Parameters
    ----------
    profile
        The fitted reference profile.
    spec
        File, folder or glob of the growing log (CSV/JSONL/Parquet).
    interval
        Seconds between polls (see :func:`~nbmlops.drift.tail.parse_interval`).
    on_report
        Called with the new :class:`DriftReport` after every poll that read rows
        (from the monitor's thread).
    time_column, window
        Windowing, as in :func:`nbmlops.drift.engine.compare`.
    config
        The rules reports are judged under; set :attr:`config` to change them.
    on_status
        Called with the monitor after every poll, on an error and on stop
        (a panel shows the state; None: nobody is told).

    Attributes
    ----------
    polls, error, tail
        Polls made, the last error of a poll (None: none yet), the log reader.
    alerter
        Set to an :class:`~nbmlops.drift.alerts.Alerter` to have it told of every
        report (posts on state changes, audits every evaluation; None: no alerts).
    """

    def __init__(self, profile: Any, spec: str | os.PathLike[str], interval: float,
                 on_report: Callable[[DriftReport], None], *, time_column: str | None = None,
                 window: Any = None, config: DriftConfig | None = None,
                 on_status: Callable[[DriftMonitor], None] | None = None) -> None:
        self.tail = LogTail(spec)
        self.acc = Accumulator(profile, default_time_column(profile, window, time_column), window)
        self.interval = interval
        self.on_report = on_report
        self.on_status = on_status
        self.alerter: Any = None
        self.config = config or DriftConfig()
        self.polls = 0
        self.error: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """True while the background thread polls."""
        return self._thread is not None and self._thread.is_alive()

    def report(self) -> DriftReport:
        """The report of every row read so far, under :attr:`config`."""
        state = self.acc.state({"current": {"kind": "live", "path": str(self.tail.spec)}})
        return DriftReport.from_state(state, self.config)

    def read_existing(self, progress: bool = False) -> DriftReport:
        """Read the rows the log holds now (once, with an optional progress bar); their report.

        Raises
        ------
        DriftError
            When the log has no rows yet.
        """
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(unit="rows", unit_scale=True, desc="drift", leave=False)
        for df in self.tail.read_new():
            self.acc.add(df)
            if bar is not None:
                bar.update(len(df))
        if bar is not None:
            bar.close()
        if self.acc.rows == 0:
            raise DriftError(f"{self.tail.spec} has no rows yet; start live mode once the log "
                             "has some.", path=str(self.tail.spec))
        return self.report()

    def poll_once(self) -> int:
        """Read new rows, update the summaries, report; return the new row count."""
        new = 0
        for df in self.tail.read_new():
            self.acc.add(df)
            new += len(df)
        self.polls += 1
        if new and self.acc.rows:
            report = self.report()
            if self.alerter is not None:
                self.alerter.notify(report)
            self.on_report(report)
        self._status()
        return new

    def start(self) -> DriftMonitor:
        """Poll on a daemon thread until :meth:`stop`."""
        if self.running:
            return self
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="nbmlops-drift-live", daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception as exc:  # keep polling (and the kernel alive); report the problem
                self.error = str(exc)
                self._status()
            self._stop.wait(self.interval)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop polling and wait for the thread to end."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._status()

    def _status(self) -> None:
        if self.on_status is not None:
            self.on_status(self)
