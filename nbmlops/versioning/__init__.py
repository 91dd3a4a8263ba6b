"""DataFrame versioning into DVC: the engine behind :func:`nbmlops.snapshot`.

Canonical Parquet (:mod:`.canonical`), the per-name catalog of versions
(:mod:`.catalog`), real ``.dvc`` files and cache entries (:mod:`.dvcfiles`),
remotes (:mod:`.remote`), diffs (:mod:`.diffing`) and the plain API
(:mod:`.api`: ``snapshot``, ``load``, ``snapshots``, ``diff``, ``resolve``).

The package is not called ``snapshot`` so that ``nbmlops.snapshot`` stays the
public function and is never shadowed by a subpackage once it is imported.
"""
