"""DataFrame versioning into DVC: the engine behind :func:`nbmlops.snapshot`.

Canonical Parquet (:mod:`.canonical`), the per-name catalog of versions
(:mod:`.catalog`), real ``.dvc`` files and cache entries (:mod:`.dvcfiles`),
remotes (:mod:`.remote`), diffs (:mod:`.diffing`) and the plain API
(:mod:`.api`: ``snapshot``, ``load``, ``snapshots``, ``diff``, ``resolve``).

The package is not called ``snapshot`` so that ``nbmlops.snapshot`` stays the
public function and is never shadowed by a subpackage once it is imported.

Public names resolve lazily (pandas, pyarrow and DVC load on first use).
"""

from __future__ import annotations

from nbmlops._lazy import lazy_face

_LAZY: dict[str, str] = {
    "snapshot": "nbmlops.versioning.api:snapshot",
    "load": "nbmlops.versioning.api:load",
    "snapshots": "nbmlops.versioning.api:snapshots",
    "diff": "nbmlops.versioning.api:diff",
    "resolve": "nbmlops.versioning.api:resolve",
    "locate": "nbmlops.versioning.api:locate",
    "SnapshotVersion": "nbmlops.versioning.results:SnapshotVersion",
    "SnapshotList": "nbmlops.versioning.results:SnapshotList",
    "SnapshotDiff": "nbmlops.versioning.results:SnapshotDiff",
}

__all__ = sorted(_LAZY)

# public names resolve on first access (PEP 562), so importing the area stays cheap
__getattr__, __dir__ = lazy_face(__name__, _LAZY, globals())
