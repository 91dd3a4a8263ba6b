"""Result objects of the snapshot API: dataclasses with ``to_dict``, text and HTML."""

from __future__ import annotations

import dataclasses
import html
from dataclasses import dataclass, field
from typing import Any

#: fields kept in the catalog file (the rest are per-call facts)
STORED = ("name", "version", "md5", "size", "digest", "rows", "columns", "schema", "kind",
          "message", "created", "git_commit", "run_id", "path", "tag")


@dataclass
class SnapshotVersion:
    """One version of a snapshot, as the catalog records it.

    Attributes
    ----------
    name, version
        ``name@version``.
    md5, size
        DVC's md5 of the Parquet file and its size in bytes.
    digest
        Logical content hash (:func:`nbmlops.hashing.frame_digest`) over all rows and the schema.
    rows, columns, schema
        Row and column counts, ``[[column, arrow type], ...]``.
    kind
        ``pandas``, ``pyarrow`` or ``polars``: what :func:`~nbmlops.load` returns.
    message, created
        The user's message and the UTC time (ISO 8601).
    git_commit, run_id, tag
        HEAD when snapshotted, the ``%%mlops run`` it happened in, the git tag (``--commit``).
    path
        The workspace file, relative to the project root (``data/snapshots/train.parquet``).
    unchanged
        ``True`` when :func:`~nbmlops.snapshot` found the data equal to this existing version.
    pushed
        ``True`` when this call pushed it to the DVC remote.
    """

    name: str
    version: int
    md5: str
    size: int
    digest: str
    rows: int
    columns: int
    schema: list[list[str]]
    kind: str = "pandas"
    message: str | None = None
    created: str = ""
    git_commit: str | None = None
    run_id: str | None = None
    path: str = ""
    tag: str | None = None
    unchanged: bool = False
    pushed: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def ref(self) -> str:
        """``name@version``."""
        return f"{self.name}@{self.version}"

    @property
    def dvc_path(self) -> str:
        """The ``.dvc`` file, relative to the project root."""
        return f"{self.path}.dvc"

    def to_dict(self, stored: bool = False) -> dict[str, Any]:
        """Plain dict (``stored=True``: only the fields the catalog keeps)."""
        d = dataclasses.asdict(self)
        return {k: d[k] for k in STORED} if stored else d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SnapshotVersion:
        """Inverse of :meth:`to_dict` (unknown keys are ignored)."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def summary(self) -> str:
        """One line: ``train v3 (md5 1a2b3c4d, 1,204,331 rows × 25 cols) — msg``."""
        state = ", unchanged" if self.unchanged else ""
        msg = f" — {self.message}" if self.message else ""
        return (f"{self.name} v{self.version} (md5 {self.md5[:8]}, {self.rows:,} rows × "
                f"{self.columns} cols{state}){msg}")

    def __str__(self) -> str:
        lines = [self.summary(), f"  file    {self.path}  (+ .dvc)",
                 f"  digest  {self.digest}", f"  created {self.created}"]
        if self.tag:
            lines.append(f"  tag     {self.tag}")
        if self.run_id:
            lines.append(f"  run     {self.run_id}")
        if self.pushed:
            lines.append("  pushed  yes (dvc status -c clean)")
        return "\n".join(lines + [f"  note    {n}" for n in self.notes])

    def __repr__(self) -> str:
        return f"<SnapshotVersion {self.summary()}>"

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><td>{html.escape(c)}</td><td><code>{html.escape(t)}</code></td></tr>"
                       for c, t in self.schema[:50])
        more = f"<p>… {len(self.schema) - 50} more columns</p>" if len(self.schema) > 50 else ""
        return (f"<div class='nbmlops-snapshot'><b>{html.escape(self.summary())}</b>"
                f"<pre>{html.escape(str(self).split(chr(10), 1)[-1])}</pre>"  # title once
                f"<details><summary>schema</summary><table>{rows}</table>{more}</details></div>")


@dataclass
class SnapshotList:
    """Versions of one snapshot (``name`` set) or the latest of each (``name=None``)."""

    name: str | None
    versions: list[SnapshotVersion]

    def to_dict(self) -> dict[str, Any]:
        """Plain dict."""
        return {"name": self.name, "versions": [v.to_dict() for v in self.versions]}

    def __len__(self) -> int:
        return len(self.versions)

    def __iter__(self) -> Any:
        return iter(self.versions)

    def _table(self) -> tuple[list[str], list[list[str]]]:
        head = ["snapshot", "rows", "cols", "md5", "digest", "created", "message"]
        body = [[v.ref, f"{v.rows:,}", str(v.columns), v.md5[:8], v.digest[:8],
                 v.created[:19], v.message or ""] for v in self.versions]
        return head, body

    def __str__(self) -> str:
        if not self.versions:
            return "no snapshots yet (make one with %mlops snapshot df --name N)"
        head, body = self._table()
        widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
        fmt = "  ".join(f"{{:<{w}}}" for w in widths)
        lines = [fmt.format(*head), *(fmt.format(*r) for r in body)]
        if self.name and self.versions:
            last = self.versions[-1]
            lines.append(f"schema of {last.ref}: " + ", ".join(f"{c}:{t}" for c, t in last.schema))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        head, body = self._table()
        th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
        trs = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>"
                      for r in body)
        return f"<table class='nbmlops-snapshots'><tr>{th}</tr>{trs}</table>"


@dataclass
class SnapshotDiff:
    """What changed between two snapshot versions.

    Attributes
    ----------
    a, b
        The two refs (``train@2``, ``train@3``).
    rows
        ``(rows in a, rows in b)``.
    added_columns, removed_columns
        Column names only in b / only in a.
    changed_types
        ``{column: (type in a, type in b)}``.
    summaries
        ``{column: {stat: (a, b)}}`` for statistics that changed.
    key
        The key column when rows were matched, else ``None``.
    added_rows, removed_rows, changed_rows
        Row counts by key (``None`` without a key).
    examples
        A few example keys per change kind.
    """

    a: str
    b: str
    rows: tuple[int, int]
    added_columns: list[str] = field(default_factory=list)
    removed_columns: list[str] = field(default_factory=list)
    changed_types: dict[str, tuple[str, str]] = field(default_factory=dict)
    summaries: dict[str, dict[str, tuple[Any, Any]]] = field(default_factory=dict)
    key: str | None = None
    added_rows: int | None = None
    removed_rows: int | None = None
    changed_rows: int | None = None
    examples: dict[str, list[Any]] = field(default_factory=dict)

    @property
    def identical(self) -> bool:
        """Nothing changed that the diff looks at."""
        return not (self.added_columns or self.removed_columns or self.changed_types
                    or self.summaries or self.rows[0] != self.rows[1]
                    or self.added_rows or self.removed_rows or self.changed_rows)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict."""
        return dataclasses.asdict(self)

    def lines(self) -> list[str]:
        """The diff as text lines."""
        out = [f"{self.a} → {self.b}"]
        delta = self.rows[1] - self.rows[0]
        out.append(f"rows: {self.rows[0]:,} → {self.rows[1]:,} ({delta:+,})")
        out += [f"+ column {c}" for c in self.added_columns]
        out += [f"- column {c}" for c in self.removed_columns]
        out += [f"~ column {c}: {ta} → {tb}" for c, (ta, tb) in self.changed_types.items()]
        for col, stats in self.summaries.items():
            parts = ", ".join(f"{s} {_fmt(x)} → {_fmt(y)}" for s, (x, y) in stats.items())
            out.append(f"  {col}: {parts}")
        if self.key is not None:
            out.append(f"by key {self.key!r}: {self.added_rows:,} added, {self.removed_rows:,} "
                       f"removed, {self.changed_rows:,} changed")
            for kind, keys in self.examples.items():
                if keys:
                    out.append(f"  {kind} e.g. {', '.join(map(str, keys))}")
        if self.identical:
            out.append("no differences")
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        return "<pre class='nbmlops-diff'>" + html.escape(str(self)) + "</pre>"


def _fmt(x: Any) -> str:
    if isinstance(x, float):
        return f"{x:.6g}"
    return str(x)
