"""Live mode: watch a growing log file or folder, read only the new rows.

:class:`LogTail` remembers how far it has read each file: CSV and JSONL
files are read from the last byte offset up to the last complete line;
Parquet/Arrow files (which cannot grow in place) are read once, when they
appear. :class:`LiveMonitor` feeds the new rows to the drift engine's
:class:`~nbmlops.drift.engine.Accumulator` (summaries only: the rows are
dropped after each poll) and pushes the re-derived report to the panel, on a
background thread so the kernel stays free; :meth:`LiveMonitor.stop` ends it.
"""

from __future__ import annotations

import io
import threading
from pathlib import Path
from typing import Any

from nbmlops.exceptions import DriftError, UsageArgumentError

_TEXT = {".csv": "csv", ".jsonl": "json", ".ndjson": "json", ".json": "json"}


def parse_interval(text: str | float | int) -> float:
    """Seconds of ``"30s"``, ``"2min"``, ``"500ms"`` or a number of seconds."""
    if isinstance(text, int | float):
        seconds = float(text)
    else:
        import pandas as pd

        try:
            seconds = pd.Timedelta(text if not str(text).isdigit() else f"{text}s").total_seconds()
        except (ValueError, TypeError):
            raise UsageArgumentError(f"--live {text!r} is not an interval like '30s' or '2min'.",
                                     parameter="live") from None
    if seconds <= 0:
        raise UsageArgumentError(f"--live interval must be positive, got {text!r}.",
                                 parameter="live")
    return seconds


class LogTail:
    """Rows added to a file or folder since the last :meth:`read_new`.

    Parameters
    ----------
    spec
        A CSV/JSONL/Parquet file, a folder of them, or a glob.
    """

    def __init__(self, spec: str | Path) -> None:
        self.spec = spec
        self.offsets: dict[Path, int] = {}
        self.headers: dict[Path, bytes] = {}
        self.rows_read = 0

    def files(self) -> list[Path]:
        """The files the spec names now (none yet is fine in live mode)."""
        from nbmlops.drift.sources import expand_paths

        try:
            return expand_paths(self.spec)
        except DriftError:
            return []

    def read_new(self) -> list[Any]:
        """New rows as pandas DataFrames (one per file with new rows)."""
        out = []
        for path in self.files():
            df = self._read_text(path) if path.suffix.lower() in _TEXT else self._read_once(path)
            if df is not None and len(df):
                self.rows_read += len(df)
                out.append(df)
        return out

    def _read_once(self, path: Path) -> Any:
        from nbmlops.drift.sources import iter_batches

        if path in self.offsets:
            return None
        import pandas as pd

        parts = list(iter_batches(path))
        self.offsets[path] = path.stat().st_size
        return pd.concat(parts, ignore_index=True) if parts else None

    def _read_text(self, path: Path) -> Any:
        start = self.offsets.get(path, 0)
        with path.open("rb") as fh:
            fh.seek(start)
            chunk = fh.read()
        end = chunk.rfind(b"\n")
        if end < 0:
            return None  # no complete new line yet
        chunk = chunk[:end + 1]
        self.offsets[path] = start + len(chunk)
        kind = _TEXT[path.suffix.lower()]
        if kind == "csv":
            if path not in self.headers:
                head, _, chunk = chunk.partition(b"\n")
                self.headers[path] = head + b"\n"
                if not chunk.strip():
                    return None
            return _parse(path, "csv", self.headers[path] + chunk)
        return _parse(path, "json", chunk)


def _parse(path: Path, kind: str, data: bytes) -> Any:
    import pyarrow.csv as pcsv
    import pyarrow.json as pjson

    try:
        table = (pcsv.read_csv(io.BytesIO(data)) if kind == "csv"
                 else pjson.read_json(io.BytesIO(data)))
    except Exception as exc:  # pyarrow raises several types for bad text
        raise DriftError(f"Cannot read new rows of {path}: {exc}", path=str(path)) from None
    return table.to_pandas()


class LiveMonitor:
    """Poll a :class:`LogTail` every ``interval`` seconds and update a panel.

    Parameters
    ----------
    panel
        The :class:`~nbmlops.widgets.drift_panel.DriftPanel` to update.
    profile
        The reference profile.
    spec
        File, folder or glob of the growing log.
    interval
        Seconds between polls.
    time_column, window
        Windowing, as in :func:`nbmlops.drift.engine.compare`.
    """

    def __init__(self, panel: Any, profile: Any, spec: str | Path, interval: float,
                 time_column: str | None = None, window: Any = None) -> None:
        from nbmlops.drift.engine import Accumulator

        self.panel = panel
        self.tail = LogTail(spec)
        self.acc = Accumulator(profile, time_column, window)
        self.interval = interval
        self.polls = 0
        self.error: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """True while the background thread polls."""
        return self._thread is not None and self._thread.is_alive()

    def poll_once(self) -> int:
        """Read new rows, update the summaries and the panel; return the new row count."""
        from nbmlops.drift.evaluate import evaluate_state

        new = 0
        for df in self.tail.read_new():
            self.acc.add(df)
            new += len(df)
        self.polls += 1
        if new and self.acc.rows:
            state = self.acc.state({"current": {"kind": "live", "path": str(self.tail.spec)}})
            self.panel.set_base(evaluate_state(state, self.panel.config))
        self.panel.show_live_status(self)
        return new

    def start(self) -> LiveMonitor:
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
            except Exception as exc:  # keep the kernel alive; show the problem in the panel
                self.error = str(exc)
                self.panel.show_live_status(self)
            self._stop.wait(self.interval)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop polling and wait for the thread to end."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.panel.show_live_status(self)
