"""Canonical Parquet: one byte layout per content.

DVC versions files by the md5 of their bytes, so the same data written with
other Parquet options would look like a new version. Here the writer options
are pinned (:data:`WRITER_OPTIONS` plus per-column choices derived only from
the schema) and nothing run-dependent (times, paths, random ids) goes into the
file, so equal content gives equal bytes and an equal DVC md5 (for the same
pyarrow version, which the file names in ``created_by``).

The file is hashed with md5 *while* it is written: :class:`_TailHasher`
hashes, on a second thread, the bytes pyarrow has already appended, so DVC's
md5 runs alongside the Parquet encoder instead of as a pass after it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nbmlops.exceptions import UnsupportedDataError

#: writer options that never change between runs (per-column ones: see write_canonical)
WRITER_OPTIONS: dict[str, Any] = {
    "version": "2.6",
    "data_page_version": "1.0",
    "write_statistics": True,
    "row_group_size": 1 << 20,
    "data_page_size": 1 << 20,
    "use_byte_stream_split": False,
    "store_schema": True,
    "write_page_index": False,
    "write_page_checksum": False,
}

KINDS = ("pandas", "pyarrow", "polars")


@dataclass(frozen=True)
class Written:
    """What :func:`write_canonical` produced."""

    md5: str
    size: int


def frame_kind(data: Any) -> str:
    """``pandas``, ``pyarrow`` or ``polars``; raises for anything else."""
    module = type(data).__module__.split(".")[0]
    name = type(data).__name__
    if module == "pandas" and name == "DataFrame":
        return "pandas"
    if module == "pyarrow" and name == "Table":
        return "pyarrow"
    if module == "polars" and name == "DataFrame":
        return "polars"
    raise UnsupportedDataError(
        f"Cannot snapshot a {type(data).__module__}.{name}: give a pandas DataFrame, "
        "a pyarrow Table or a polars DataFrame.",
        kind=name,
    )


def to_table(data: Any) -> tuple[Any, str]:
    """Convert ``data`` to a pyarrow Table that round-trips back to it.

    Returns
    -------
    (pyarrow.Table, str)
        The table and the kind (``pandas``/``pyarrow``/``polars``) to load back as.

    Raises
    ------
    UnsupportedDataError
        Naming the column: non-string or duplicate names, Python objects
        Parquet cannot hold, nested values that would come back as other types.
    """
    import pyarrow as pa

    kind = frame_kind(data)
    if kind == "pandas":
        check_pandas_columns(data)
        table = _from_pandas(data)
    elif kind == "polars":
        table = data.to_arrow()
    else:
        table = data
    check_column_names(list(table.schema.names) if kind != "pandas" else [])
    if kind != "pyarrow":
        table = table.combine_chunks() if any(c.num_chunks > 1 for c in table.columns) else table
    if kind != "pandas":  # Parquet loses some Arrow types (dictionary value types ...)
        schema = base64.b64encode(table.schema.remove_metadata().serialize().to_pybytes())
        table = table.replace_schema_metadata(
            {**(table.schema.metadata or {}), b"nbmlops.arrow_schema": schema})
    if not isinstance(table, pa.Table):  # pragma: no cover (defensive)
        raise UnsupportedDataError("Conversion to Arrow failed.", kind=kind)
    return table, kind


def check_column_names(names: list[Any]) -> None:
    """Column names must be unique strings (Parquet keys columns by name)."""
    seen: set[str] = set()
    for name in names:
        if not isinstance(name, str):
            raise UnsupportedDataError(
                f"Column name {name!r} is a {type(name).__name__}, not a string; Parquet "
                f"stores names as text. Rename it, e.g. df.columns = df.columns.map(str).",
                column=name,
            )
        if name in seen:
            raise UnsupportedDataError(
                f"Column name {name!r} appears more than once; Parquet needs unique names.",
                column=name,
            )
        seen.add(name)


def check_pandas_columns(df: Any) -> None:
    """Reject pandas columns that cannot round-trip, naming the first one."""
    check_column_names(list(df.columns))


def _from_pandas(df: Any) -> Any:
    import pyarrow as pa

    try:
        table = pa.Table.from_pandas(df, preserve_index=None)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError,
            ValueError) as exc:
        raise _name_bad_column(df, exc) from None
    for name, field in zip(df.columns, table.schema, strict=False):
        if str(df[name].dtype) == "object" and _nested(field.type):
            raise UnsupportedDataError(
                f"Column {name!r} holds Python {type(_first_value(df[name])).__name__} values "
                f"(stored as Arrow {field.type}); they would load back as other types. "
                "Convert them to strings or separate columns first.",
                column=name,
            )
    extras = _pandas_extras(df)
    if extras:
        text = json.dumps(extras, sort_keys=True, default=str)
        meta = {**(table.schema.metadata or {}), b"nbmlops": text}
        table = table.replace_schema_metadata(meta)
    return table


def _pandas_extras(df: Any) -> dict[str, Any]:
    """What pandas metadata in Parquet loses: object dtype, empty categories, freq, ranges."""
    extras: dict[str, Any] = {}
    objects = [name for name in df.columns if str(df[name].dtype) == "object"]
    if objects:
        extras["object"] = objects
    # Parquet keeps dictionaries of text only: other categoricals come back as plain values
    cats = {name: [[_jsonable(v) for v in df[name].cat.categories], bool(df[name].cat.ordered),
                   str(df[name].cat.categories.dtype)]
            for name in df.columns if str(df[name].dtype) == "category"
            and (len(df) == 0 or df[name].cat.categories.dtype.kind not in "OUT")}
    if cats:
        extras["categories"] = cats
    index = df.index
    if type(index).__name__ == "RangeIndex" and df.shape[1] == 0:
        extras["range"] = [index.start, index.stop, index.step, index.name]
    freq = getattr(index, "freqstr", None)
    if freq:
        extras["freq"] = freq
    return extras


def _jsonable(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value.item() if hasattr(value, "item") else value


def _restore_pandas(table: Any) -> Any:
    import pandas as pd

    df = table.to_pandas()
    raw = (table.schema.metadata or {}).get(b"nbmlops")
    if not raw:
        return df
    extras = json.loads(raw)
    for name in extras.get("object", []):  # pandas 3 reads text as str; keep object + None
        values = table.column(name).to_numpy(zero_copy_only=False)
        df[name] = pd.Series(values, index=df.index, dtype=object, name=name)
    for name, (cats, ordered, dtype) in extras.get("categories", {}).items():
        wanted = pd.CategoricalDtype(pd.Index(cats, dtype=dtype), ordered=ordered)
        df[name] = df[name].astype(object).astype(wanted) if len(df) else pd.Categorical(
            [], dtype=wanted)
    if "range" in extras:
        start, stop, step, name = extras["range"]
        df = pd.DataFrame(index=pd.RangeIndex(start, stop, step, name=name))
    if "freq" in extras:
        df.index = pd.DatetimeIndex(df.index, freq=extras["freq"])
    return df


def _nested(t: Any) -> bool:
    import pyarrow as pa

    return pa.types.is_nested(t) or pa.types.is_dictionary(t)


def _first_value(series: Any) -> Any:
    valid = series.dropna()
    return valid.iloc[0] if len(valid) else None


def _name_bad_column(df: Any, exc: Exception) -> UnsupportedDataError:
    import pyarrow as pa

    for i, name in enumerate(df.columns):
        try:
            pa.Table.from_pandas(df.iloc[:, [i]], preserve_index=False)
        except Exception as col_exc:  # any failure names the column
            sample = _first_value(df.iloc[:, i])
            return UnsupportedDataError(
                f"Column {name!r} cannot be stored in Parquet: it holds "
                f"{type(sample).__name__} values ({col_exc}). Convert it to a supported "
                "type (numbers, strings, bytes, dates, categoricals) first.",
                column=name,
            )
    return UnsupportedDataError(f"The index cannot be stored in Parquet: {exc}", column="<index>")


def column_options(table: Any) -> dict[str, Any]:
    """Per-column writer choices, derived from the schema only."""
    import pyarrow as pa

    dictionary, compression = [], {}
    for field in table.schema:
        t = field.type
        text = pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_binary(t) \
            or pa.types.is_large_binary(t) or pa.types.is_dictionary(t)
        if text:
            dictionary.append(field.name)
        # random floats do not compress; skipping snappy saves ~10% write time
        compression[field.name] = "none" if pa.types.is_floating(t) else "snappy"
    return {"use_dictionary": dictionary, "compression": compression or "snappy"}


class _TailHasher:
    """md5 of a file while another thread appends to it (reads what is already there).

    pyarrow's Parquet writer only appends (no seeks back), so every byte below
    the file's current size is final. This thread hashes those bytes (from
    the page cache, just written) while pyarrow, outside the GIL, encodes and
    writes the next pages: the md5 costs no pass of its own after the write.
    """

    CHUNK = 8 << 20

    def __init__(self, path: str | os.PathLike[str]) -> None:
        import threading

        self.md5 = hashlib.md5()
        self.size = 0
        self._file = open(path, "rb", buffering=0)  # noqa: SIM115 (closed in finish())
        self._done = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="nbmlops-md5", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        buf = bytearray(self.CHUNK)
        view = memoryview(buf)
        try:
            while True:
                done = self._done.is_set()  # checked before the size: the last pass sees all
                end = os.fstat(self._file.fileno()).st_size
                while self.size < end:
                    n = self._file.readinto(view[: min(self.CHUNK, end - self.size)])
                    if not n:  # pragma: no cover - the file shrank: caught by finish()
                        break
                    self.md5.update(view[:n])
                    self.size += n
                if done:
                    return
                self._done.wait(0.005)
        except BaseException as exc:  # reported by finish()
            self._error = exc

    def finish(self) -> tuple[str, int]:
        """Hash the rest once the writer closed the file; return ``(md5, size)``."""
        self._done.set()
        self._thread.join()
        self._file.close()
        if self._error is not None:
            raise self._error
        return self.md5.hexdigest(), self.size


def write_canonical(table: Any, path: str | os.PathLike[str]) -> Written:
    """Write ``table`` to ``path`` as canonical Parquet; return md5 and size.

    ``path`` is written from scratch; the caller renames it into
    place (atomic), so a crash never leaves a half-written snapshot behind.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    options = {**WRITER_OPTIONS, **column_options(table)}
    with pa.OSFile(str(path), "wb") as out:
        hasher = _TailHasher(path)
        try:
            pq.write_table(table, out, **options)
        finally:
            out.close()
            md5, size = hasher.finish()
    if size != os.path.getsize(path):  # the size seen while writing lagged (e.g. NFS)
        from dvc_data.hashfile.hash import file_md5  # DVC's own hash of the finished file

        md5, size = file_md5(os.fspath(path)), os.path.getsize(path)
    return Written(md5=md5, size=size)


def read_table(path: str | os.PathLike[str]) -> Any:
    """Read a snapshot file as a pyarrow Table."""
    import pyarrow.parquet as pq

    return pq.read_table(Path(path), use_threads=True)


def from_table(table: Any, kind: str) -> Any:
    """Turn a Table read from a snapshot back into the kind it was given as."""
    table = _restore_arrow(table)
    if kind == "pyarrow":
        return table
    if kind == "polars":
        import polars as pl

        return pl.from_arrow(table)
    return _restore_pandas(table)


def _restore_arrow(table: Any) -> Any:
    import pyarrow as pa

    meta = dict(table.schema.metadata or {})
    raw = meta.pop(b"nbmlops.arrow_schema", None)
    if raw is None:
        return table
    schema = pa.ipc.read_schema(pa.py_buffer(base64.b64decode(raw)))
    table = table.replace_schema_metadata(meta or None)
    if table.schema.remove_metadata() != schema:
        table = table.cast(schema.with_metadata(meta or None))
    return table


def schema_of(table: Any) -> list[list[str]]:
    """``[[column, arrow type], ...]`` without pandas' index helper columns."""
    hidden = _index_columns(table)
    return [[f.name, str(f.type)] for f in table.schema if f.name not in hidden]


def _index_columns(table: Any) -> set[str]:
    import json

    meta = (table.schema.metadata or {}).get(b"pandas")
    if not meta:
        return set()
    cols = json.loads(meta).get("index_columns", [])
    return {c for c in cols if isinstance(c, str)}
