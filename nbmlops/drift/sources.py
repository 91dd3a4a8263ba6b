"""Where data comes from: DataFrames, files/folders/globs (Parquet, CSV, JSONL), snapshots.

Files are read with ``pyarrow.dataset`` in record batches, so a log of any
size streams with bounded memory. A snapshot name (``train@3``) is resolved
through :mod:`nbmlops.versioning.api` when that area is installed.
"""

from __future__ import annotations

import glob
import hashlib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from nbmlops.exceptions import DriftError

_FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".jsonl": "json",
            ".json": "json", ".ndjson": "json", ".feather": "ipc", ".arrow": "ipc"}
_SNAPSHOT = re.compile(r"^[A-Za-z_][\w.-]*@\w+$")


def is_frame(obj: Any) -> bool:
    """True for a pandas DataFrame."""
    return type(obj).__module__.startswith("pandas") and hasattr(obj, "columns")


def is_spark(obj: Any) -> bool:
    """True for a PySpark DataFrame (without importing pyspark)."""
    return type(obj).__module__.startswith("pyspark") and hasattr(obj, "mapInPandas")


def expand_paths(spec: str | os.PathLike[str] | list[Any] | tuple[Any, ...]) -> list[Path]:
    """Files named by a path, folder, glob, or list of them (sorted, no hidden files)."""
    specs = spec if isinstance(spec, list | tuple) else [spec]
    out: list[Path] = []
    for s in specs:
        text = str(s)
        if any(ch in text for ch in "*?["):
            out += [Path(p) for p in sorted(glob.glob(text, recursive=True)) if Path(p).is_file()]
        elif Path(text).is_dir():
            out += sorted(p for p in Path(text).rglob("*")
                          if p.is_file() and p.suffix.lower() in _FORMATS
                          and not any(part.startswith((".", "_")) for part in p.parts[-1:]))
        elif Path(text).is_file():
            out.append(Path(text))
        else:
            raise DriftError(f"No such file, folder or glob: {text}", path=text)
    if not out:
        raise DriftError(f"No data files found in {spec!s}.", path=str(spec))
    return out


def file_format(paths: list[Path]) -> str:
    """The one format of ``paths`` (mixed formats are an error)."""
    fmts = {_FORMATS.get(p.suffix.lower()) for p in paths}
    if None in fmts:
        bad = next(p for p in paths if p.suffix.lower() not in _FORMATS)
        raise DriftError(f"Unsupported file type {bad.suffix!r} ({bad}); use Parquet, CSV or "
                         "JSONL.", path=str(bad))
    known = {f for f in fmts if f is not None}
    if len(known) > 1:
        raise DriftError(f"Mixed file formats {sorted(known)} in one input.", path=str(paths[0]))
    return known.pop()


def _dataset(paths: list[Path]) -> Any:
    import pyarrow.dataset as ds

    fmt = file_format(paths)
    try:
        return ds.dataset([str(p) for p in paths], format=fmt)
    except Exception as exc:
        raise DriftError(f"Cannot read {paths[0]}{' ...' if len(paths) > 1 else ''}: {exc}",
                         path=str(paths[0])) from None


def iter_batches(spec: Any, columns: list[str] | None = None,
                 batch_size: int = 262_144) -> Iterator[Any]:
    """Yield pandas DataFrames of at most ``batch_size`` rows from files.

    Parquet is read one row group at a time (memory bounded by a row group,
    not a file); CSV and JSONL go through ``pyarrow.dataset``'s block reader.
    """
    paths = expand_paths(spec)
    try:
        if file_format(paths) == "parquet":
            yield from _parquet_batches(paths, columns, batch_size)
            return
        dataset = _dataset(paths)
        names = set(dataset.schema.names)
        cols = [c for c in columns if c in names] if columns is not None else None
        # small read-ahead keeps memory bounded by a few batches
        for batch in dataset.to_batches(columns=cols, batch_size=batch_size,
                                        batch_readahead=2, fragment_readahead=1):
            yield batch.to_pandas()
    except DriftError:
        raise
    except Exception as exc:
        raise DriftError(f"Cannot read {spec}: {exc}", path=str(spec)) from None


def _parquet_batches(paths: list[Path], columns: list[str] | None,
                     batch_size: int) -> Iterator[Any]:
    import pyarrow.parquet as pq

    for path in paths:
        pf = pq.ParquetFile(path)
        names = set(pf.schema_arrow.names)
        cols = [c for c in columns if c in names] if columns is not None else None
        for i in range(pf.num_row_groups):
            table = pf.read_row_group(i, columns=cols)
            for batch in table.to_batches(max_chunksize=batch_size):
                yield batch.to_pandas()
            del table


def count_rows(spec: Any) -> int | None:
    """Row count from metadata (Parquet) or ``None`` when unknown without a scan."""
    paths = expand_paths(spec)
    if file_format(paths) != "parquet":
        return None
    return int(_dataset(paths).count_rows())


def files_digest(spec: Any) -> str:
    """Hash of the files' names, sizes and modification times (cheap, for the audit log)."""
    h = hashlib.blake2b(digest_size=16)
    for p in expand_paths(spec):
        st = p.stat()
        h.update(f"{p.resolve()}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def is_snapshot_name(text: str) -> bool:
    """``name@version`` that is not an existing path."""
    return bool(_SNAPSHOT.match(text)) and not Path(text).exists()


def load_snapshot(name: str) -> Any:
    """Load snapshot ``name@version`` as pandas through :mod:`nbmlops.versioning.api`."""
    try:
        from nbmlops.versioning import api
    except ImportError:
        raise DriftError(f"{name!r} looks like a snapshot name but snapshots are not available "
                         "in this installation.", parameter=name) from None
    return api.load(name, kind="pandas", context="drift")


def snapshot_digest(name: str) -> str | None:
    """The snapshot's logical content hash from its catalog entry."""
    return getattr(snapshot_entry(name), "digest", None)


def snapshot_entry(name: str) -> Any:
    """The catalog entry (:class:`~nbmlops.versioning.results.SnapshotVersion`) of ``name``."""
    from nbmlops.versioning import api

    return api.resolve(name)


def load_frame(data: Any, role: str = "data") -> tuple[Any, dict[str, Any]]:
    """A whole pandas DataFrame from ``data`` plus a description of the source."""
    import pandas as pd

    if is_frame(data):
        return data, {"kind": "dataframe", "rows": len(data)}
    if is_spark(data):
        raise DriftError(f"Pass a pandas DataFrame or files as the {role}; Spark frames are "
                         "supported for current data.", parameter=role)
    if isinstance(data, str) and is_snapshot_name(data):
        df = load_snapshot(data)
        entry = snapshot_entry(data)
        return df, {"kind": "snapshot", "name": data, "rows": len(df),
                    "digest": getattr(entry, "digest", None),
                    "path": str(getattr(entry, "path", "")),
                    "version": getattr(entry, "version", None)}
    if isinstance(data, str | os.PathLike | list | tuple):
        paths = expand_paths(data)
        frames = list(iter_batches(paths))
        df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        return df, {"kind": "files", "path": str(data), "files": len(paths), "rows": len(df),
                    "digest": files_digest(paths)}
    raise DriftError(f"Cannot use a {type(data).__name__} as {role} data: pass a pandas "
                     "DataFrame, a path, a glob or a snapshot name.", parameter=role)
