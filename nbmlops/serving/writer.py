"""A background Parquet writer: bounded queue, batches by size or age, atomic files.

Rows arrive as small Arrow tables (one per request) through :meth:`LogWriter.put`.
A daemon thread gathers them into batches and writes one Parquet file per batch
and hour under ``root/date=YYYY-MM-DD/hour=HH/`` (hive partitioning, UTC). A
file is written as ``.part-….parquet.tmp`` and renamed into place, so readers
(pandas, ``pyarrow.dataset``, DuckDB, Spark, the drift engine) never see half a
file; names starting with ``.`` or ``_`` are skipped by all of them.

When the queue holds ``max_queue_rows`` rows, ``policy="block"`` (the default)
makes :meth:`put` wait up to ``block_timeout`` seconds and then raise
:class:`LogFullError` (the service answers 503); ``policy="drop"`` drops the rows and
counts them (``rows_dropped``, also in the sidecar ``_nbmlops_log.json``).
A batch that cannot be written (disk full, folder gone) stays queued and is
retried every second: nothing is lost while the process lives.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nbmlops.mlflow_gateway.scoring import ServingError

SIDECAR = "_nbmlops_log.json"
POLICIES = ("block", "drop")


class LogFullError(Exception):
    """The log queue stayed full for ``block_timeout`` seconds (back-pressure)."""


@dataclass(frozen=True)
class WriterOptions:
    """How a :class:`LogWriter` batches and applies back-pressure.

    Attributes
    ----------
    batch_rows
        Write a file once this many rows are queued.
    max_age
        ... or once the oldest queued row is this many seconds old.
    max_queue_rows
        Queue bound (rows); beyond it ``policy`` applies.
    policy
        ``block`` (wait, then :class:`LogFullError`) or ``drop`` (count and drop).
    block_timeout
        Seconds :meth:`LogWriter.put` waits under ``block``.
    time_column
        The UTC timestamp column that picks each row's hour partition.
    """

    batch_rows: int = 5000
    max_age: float = 1.0
    max_queue_rows: int = 100_000
    policy: str = "block"
    block_timeout: float = 5.0
    time_column: str = "timestamp"

    def __post_init__(self) -> None:
        if self.policy not in POLICIES:
            raise ServingError(f"log policy {self.policy!r} is not one of {', '.join(POLICIES)}",
                               parameter="policy")
        if self.batch_rows < 1 or self.max_queue_rows < 1 or self.max_age <= 0:
            raise ServingError("batch rows, queue rows and flush age must be positive",
                               parameter="batch_rows")


def check_writable(root: str | os.PathLike[str]) -> Path:
    """Create ``root`` and prove a file can be written there, or raise a clear error."""
    path = Path(root)
    probe = path / f".nbmlops-probe-{os.getpid()}"
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as exc:
        raise ServingError(f"cannot write the log folder {path}: {exc.strerror or exc}",
                           path=str(path)) from None
    return path


def hour_dir(ts: _dt.datetime) -> str:
    """The partition folder of a UTC time: ``date=YYYY-MM-DD/hour=HH``."""
    return f"date={ts:%Y-%m-%d}/hour={ts:%H}"


class LogWriter:
    """Write queued Arrow tables to hour-partitioned Parquet files on a daemon thread.

    Parameters
    ----------
    root
        The log folder (created; must be writable).
    options
        Batching and back-pressure.
    meta
        Extra fields of the sidecar (model name ...).
    """

    def __init__(self, root: str | os.PathLike[str], options: WriterOptions | None = None,
                 meta: dict[str, Any] | None = None) -> None:
        self.root = check_writable(root)
        self.options = options or WriterOptions()
        self.meta = dict(meta or {})
        self.rows_written = self.rows_dropped = self.files_written = self.write_errors = 0
        self.last_error: str | None = None
        self._queue: deque[tuple[str, Any]] = deque()
        self._queued_rows = 0
        self._oldest: float | None = None
        self._cond = threading.Condition()
        self._closed = False
        self._seq = 0
        self._thread = threading.Thread(target=self._run, name="nbmlops-log-writer", daemon=True)
        self._thread.start()

    @property
    def queued_rows(self) -> int:
        """Rows waiting to be written."""
        return self._queued_rows

    def put(self, table: Any, hour: str | None = None) -> bool:
        """Queue an Arrow table (one request's rows); False when dropped under ``drop``.

        Raises
        ------
        LogFullError
            Under ``block``, when the queue stayed full for ``block_timeout`` seconds.
        """
        n = table.num_rows
        opts = self.options
        hour = hour or hour_dir(_dt.datetime.now(_dt.timezone.utc))
        with self._cond:
            if self._closed:
                raise LogFullError("the log writer is closed")
            deadline = time.monotonic() + opts.block_timeout
            while self._queued_rows and self._queued_rows + n > opts.max_queue_rows:
                if opts.policy == "drop":
                    self.rows_dropped += n
                    return False
                left = deadline - time.monotonic()
                if left <= 0:
                    raise LogFullError(f"the prediction log queue is full ({self._queued_rows} "
                                       f"rows): {self.last_error or 'the writer is behind'}")
                self._cond.wait(left)
            self._queue.append((hour, table))
            self._queued_rows += n
            if self._oldest is None:
                self._oldest = time.monotonic()
            if self._queued_rows >= opts.batch_rows:
                self._cond.notify_all()
        return True

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every queued row is written (True) or ``timeout`` passes (False)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            self._cond.notify_all()
            while self._queued_rows and time.monotonic() < deadline:
                self._oldest = 0.0  # due now
                self._cond.notify_all()
                self._cond.wait(0.05)
            return self._queued_rows == 0

    def close(self, timeout: float = 30.0) -> bool:
        """Flush, stop the thread and write the sidecar; True when nothing was left queued."""
        done = self.flush(timeout)
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join(timeout)
        self.write_sidecar()
        return done

    # -- the writer thread ----------------------------------------------------------------
    def _due(self) -> bool:
        if not self._queue:
            return False
        age = time.monotonic() - (self._oldest or 0.0)
        return self._queued_rows >= self.options.batch_rows or age >= self.options.max_age

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._due() and not self._closed:
                    self._cond.wait(self.options.max_age / 4)
                if self._closed and not self._queue:
                    return
                batch = list(self._queue)
            ok = self._write(batch)
            with self._cond:
                if ok:
                    for _ in batch:
                        self._queue.popleft()
                    self._queued_rows -= sum(t.num_rows for _, t in batch)
                    self._oldest = time.monotonic() if self._queue else None
                    self._cond.notify_all()
                elif self._closed:
                    return  # closing and the disk still refuses: give up (rows stay counted)
                else:
                    self._cond.wait(1.0)  # retry the same rows in a second

    def _write(self, batch: list[tuple[str, Any]]) -> bool:
        import pyarrow as pa
        import pyarrow.parquet as pq

        groups: dict[str, list[Any]] = {}
        for hour, table in batch:
            groups.setdefault(hour, []).append(table)
        try:
            for hour, tables in groups.items():
                table = _concat(tables)
                folder = self.root / hour
                folder.mkdir(parents=True, exist_ok=True)
                self._seq += 1
                name = (f"part-{_dt.datetime.now(_dt.timezone.utc):%Y%m%dT%H%M%S}"
                        f"-{os.getpid()}-{self._seq:06d}.parquet")
                tmp = folder / f".{name}.tmp"
                pq.write_table(table, tmp, compression="snappy")
                os.replace(tmp, folder / name)
                self.rows_written += table.num_rows
                self.files_written += 1
        except (OSError, pa.ArrowException) as exc:
            self.write_errors += 1
            self.last_error = f"cannot write {self.root}: {exc}"
            return False
        self.last_error = None
        self.write_sidecar()
        return True

    def stats(self) -> dict[str, Any]:
        """Counters of this writer (for the sidecar and the metrics)."""
        return {"rows_written": self.rows_written, "rows_dropped": self.rows_dropped,
                "files_written": self.files_written, "write_errors": self.write_errors,
                "queued_rows": self._queued_rows, "last_error": self.last_error}

    def write_sidecar(self) -> None:
        """Write ``_nbmlops_log.json`` (counters, policy, metadata) atomically; best effort."""
        body = {"format": "nbmlops-prediction-log/1", "partitioning": "date=YYYY-MM-DD/hour=HH",
                "policy": self.options.policy, "pid": os.getpid(), **self.meta, **self.stats(),
                "updated": _dt.datetime.now(_dt.timezone.utc).isoformat()}
        tmp = self.root / f".{SIDECAR}.{os.getpid()}.tmp"
        try:
            tmp.write_text(json.dumps(body, indent=1, default=str), encoding="utf-8")
            os.replace(tmp, self.root / SIDECAR)
        except OSError:
            pass  # the counters are in the metrics too; a full disk must not stop the writer


def _concat(tables: list[Any]) -> Any:
    """One contiguous table (thousands of 1-row chunks would make Parquet writing 60x slower)."""
    import pyarrow as pa

    try:
        table = pa.concat_tables(tables)
    except pa.ArrowInvalid:  # schemas differ (a column all null in one request ...): unify
        table = pa.concat_tables(tables, promote_options="permissive")
    return table.combine_chunks()
