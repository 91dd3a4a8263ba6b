"""Read a growing log file or folder: only the rows added since the last read.

:class:`LogTail` remembers how far it has read each file: CSV and JSONL
files are read from the last byte offset up to the last complete line;
Parquet/Arrow files (which cannot grow in place) are read once, when they
appear. :class:`~nbmlops.drift.monitor.DriftMonitor` polls one.
"""

from __future__ import annotations

import io
import os
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

    def __init__(self, spec: str | os.PathLike[str]) -> None:
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
