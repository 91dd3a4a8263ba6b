"""Plain API of snapshots: freeze a DataFrame into DVC and bring any version back.

>>> import nbmlops, pandas as pd                                      # doctest: +SKIP
>>> v = nbmlops.snapshot(pd.DataFrame({"a": [1, 2]}), "train", message="first")
>>> nbmlops.load("train@1")                                          # doctest: +SKIP

A snapshot is a canonical Parquet file ``<snapshot_dir>/<name>.parquet`` in
DVC (cache object + ``.dvc`` file), a catalog entry (``<name>.snapshots.json``)
and, inside a ``%%mlops run`` cell, an MLflow dataset input on that run.
"""

from __future__ import annotations

import contextlib
import os
import signal
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from nbmlops.config import NbmlopsConfig, load_config
from nbmlops.exceptions import MissingDependencyError, SnapshotError, UsageArgumentError
from nbmlops.tracking.current import active_run_id, log_dataset
from nbmlops.versioning import canonical, catalog, dvcfiles, remote, sync, vcs
from nbmlops.versioning.results import SnapshotDiff, SnapshotList, SnapshotVersion

#: test hook: ``NBMLOPS_SNAPSHOT_KILL_AT=<step>`` SIGKILLs the process at that step
KILL_ENV = "NBMLOPS_SNAPSHOT_KILL_AT"


def snapshot(
    df: Any,
    name: str,
    message: str | None = None,
    push: bool = False,
    commit: bool = False,
    context: str = "training",
    config: NbmlopsConfig | None = None,
) -> SnapshotVersion:
    """Freeze a DataFrame into DVC as the next version of ``name``.

    Parameters
    ----------
    df
        A pandas DataFrame, pyarrow Table or polars DataFrame.
    name
        Snapshot name (``train``); files are ``<snapshot_dir>/<name>.parquet[.dvc]``.
    message
        Why this version exists (kept in the catalog and commit message).
    push
        Push the data to the DVC remote and check ``dvc status -c``.
    commit
        Also make a git commit of the ``.dvc`` file and catalog, tagged
        ``snapshot/<name>/v<k>``.
    context
        MLflow dataset context when called inside a ``%%mlops run`` cell.
    config
        Settings (default: :func:`nbmlops.config.load_config`).

    Returns
    -------
    SnapshotVersion
        The new version, or the existing one (``unchanged=True``) when the
        data equals the latest version by logical hash.

    Raises
    ------
    UnsupportedDataError
        A column Parquet cannot hold (named); nothing is written.
    """
    from nbmlops.hashing import frame_digest

    cfg = config or load_config()
    name = catalog.check_snapshot_name(name)
    canonical.frame_kind(df)
    req = _Request(cfg, cfg.path(cfg.snapshot_dir), name, df, frame_digest(df), message,
                   push, commit, context)
    latest = catalog.Catalog.read(req.folder, name).latest
    if latest is not None and latest.digest == req.digest:
        return _finish_unchanged(latest, req)
    table, kind = canonical.to_table(df)  # validates: nothing written on bad input
    req.folder.mkdir(parents=True, exist_ok=True)
    repo = dvcfiles.open_repo(cfg.project_root)
    try:
        return _store(repo, req, table, kind)
    finally:
        repo.close()


@dataclass(frozen=True)
class _Request:
    """One :func:`snapshot` call: what to store, where, and what to do after."""

    cfg: NbmlopsConfig
    folder: Path
    name: str
    df: Any
    digest: str
    message: str | None
    push: bool
    commit: bool
    context: str


def _store(repo: Any, req: _Request, table: Any, kind: str) -> SnapshotVersion:
    cfg, folder, name = req.cfg, req.folder, req.name
    tmp = folder / f".{name}.parquet.{uuid.uuid4().hex}.tmp"
    try:
        written = canonical.write_canonical(table, tmp)
        _checkpoint("written")
        with catalog.locked(folder, name):
            _sweep_stale(folder, name)
            cat = catalog.Catalog.read(folder, name)
            if cat.latest is not None and cat.latest.digest == req.digest:  # a racing twin
                tmp.unlink()
                return _finish_unchanged(cat.latest, req)
            entry = _entry(req, cat.next_version(), table, kind, written)
            dvcfiles.add_to_cache(repo, str(tmp), written.md5)
            _checkpoint("cached")
            cat.versions.append(entry)
            cat.write()  # the commit point: from here on the version exists
            _checkpoint("cataloged")
            workspace = folder / f"{name}.parquet"
            dvcfiles.checkout_file(repo, written.md5, workspace)
            dvcfile = dvcfiles.write_dvcfile(workspace, written.md5, written.size)
            gitignore = dvcfiles.ignore_in_git(repo, workspace)
            pins = sync.pin(repo, folder, entry)  # `dvc push/pull/gc -w` see every version
            if req.commit:
                entry.tag = f"snapshot/{name}/v{entry.version}"
                cat.write()
                _git_commit(cfg, entry, [dvcfile, cat.path, gitignore, *pins])
    finally:
        if tmp.exists():
            tmp.unlink()
    if req.push:  # every version of the name (each is pinned: `dvc status -c` checks all)
        remote.push_many(repo, [v.md5 for v in cat.versions[:-1]
                                if dvcfiles.in_cache(repo, v.md5)], cfg.dvc_remote)
        remote.push(repo, entry.md5, dvcfile, cfg.dvc_remote)
        entry.pushed = True
    _log_dataset(entry, req.context, req.df)
    return entry


#: a temp file older than this was left by a killed process (writes take far less)
STALE_SECONDS = 3600.0


def _sweep_stale(folder: Path, name: str) -> None:
    """Delete temp files of ``name`` that killed snapshots left behind."""
    import time

    cutoff = time.time() - STALE_SECONDS
    for tmp in folder.glob(f".{name}.parquet.*.tmp"):
        with contextlib.suppress(OSError):
            if tmp.stat().st_mtime < cutoff:
                tmp.unlink()


def _entry(req: _Request, version: int, table: Any, kind: str,
           written: canonical.Written) -> SnapshotVersion:
    cfg, folder, name = req.cfg, req.folder, req.name
    schema = canonical.schema_of(table)
    return SnapshotVersion(
        name=name, version=version, md5=written.md5, size=written.size, digest=req.digest,
        rows=int(table.num_rows), columns=len(schema), schema=schema, kind=kind,
        message=req.message, created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        git_commit=vcs.head_commit(cfg.project_root), run_id=active_run_id(),
        path=(folder / f"{name}.parquet").relative_to(cfg.project_root).as_posix()
        if folder.is_relative_to(cfg.project_root) else str(folder / f"{name}.parquet"),
    )


def _finish_unchanged(latest: SnapshotVersion, req: _Request) -> SnapshotVersion:
    cfg = req.cfg
    latest.unchanged = True
    latest.notes.append(f"data equal to {latest.ref} (logical hash); nothing rewritten")
    if _workspace_lags(cfg, latest):
        _restore_workspace(cfg, latest)
        latest.notes.append(f"{latest.path} and its .dvc file restored to {latest.ref}")
    if req.push:
        with _open_repo(cfg) as repo:
            dvcfile = cfg.project_root / latest.dvc_path
            current = dvcfiles.read_dvcfile(dvcfile)
            same = current is not None and current.get("md5") == latest.md5
            remote.push(repo, latest.md5, dvcfile if same else None, cfg.dvc_remote)
        latest.pushed = True
    if req.commit and latest.tag is None:
        _commit_existing(cfg, latest)
    _log_dataset(latest, req.context, req.df)
    return latest


def _commit_existing(cfg: NbmlopsConfig, entry: SnapshotVersion) -> None:
    """``--commit`` for data equal to an untagged version: commit and tag that version."""
    workspace = cfg.project_root / entry.path
    with catalog.locked(workspace.parent, entry.name):
        cat = catalog.Catalog.read(workspace.parent, entry.name)
        stored = cat.get(entry.version)
        if stored.tag is None:
            stored.tag = entry.tag = f"snapshot/{entry.name}/v{entry.version}"
            cat.write()
            gitignore = workspace.parent / ".gitignore"
            pin = sync.version_file(workspace.parent, stored)
            _git_commit(cfg, entry, [Path(f"{workspace}.dvc"), cat.path, gitignore,
                                     Path(f"{pin}.dvc"), pin.parent / ".gitignore"])
        entry.tag = stored.tag


def _workspace_lags(cfg: NbmlopsConfig, entry: SnapshotVersion) -> bool:
    """Whether the ``.dvc`` file or data file do not show ``entry`` (cheap: no DVC)."""
    workspace = cfg.project_root / entry.path
    current = dvcfiles.read_dvcfile(Path(f"{workspace}.dvc"))
    return current is None or current.get("md5") != entry.md5 or not workspace.exists()


def _restore_workspace(cfg: NbmlopsConfig, entry: SnapshotVersion) -> None:
    """Point ``<name>.parquet(.dvc)`` at ``entry`` again (e.g. after a kill mid-snapshot)."""
    workspace = cfg.project_root / entry.path
    with catalog.locked(workspace.parent, entry.name), _open_repo(cfg) as repo:
        if not _workspace_lags(cfg, entry):
            return
        if not remote.fetch(repo, entry.md5, cfg.dvc_remote):
            return  # data gone from cache and remote: leave the files as they are
        dvcfiles.checkout_file(repo, entry.md5, workspace)
        dvcfiles.write_dvcfile(workspace, entry.md5, entry.size)
        dvcfiles.ignore_in_git(repo, workspace)


def _git_commit(cfg: NbmlopsConfig, entry: SnapshotVersion, paths: list[Path | None]) -> None:
    root = cfg.project_root
    dvc_meta = [root / ".dvc" / "config", root / ".dvc" / ".gitignore", root / ".dvcignore"]
    msg = f"snapshot {entry.ref}" + (f": {entry.message}" if entry.message else "")
    vcs.commit_and_tag(root, [p for p in [*paths, *dvc_meta] if p is not None], msg,
                       entry.tag or "")


def _checkpoint(step: str) -> None:
    if os.environ.get(KILL_ENV) == step:
        os.kill(os.getpid(), signal.SIGKILL)


def _log_dataset(entry: SnapshotVersion, context: str, df: Any) -> None:
    """Attach ``entry`` to the current ``%%mlops run`` as an MLflow dataset input."""
    if active_run_id() is None:
        return
    entry.run_id = entry.run_id or active_run_id()
    source = f"dvc://{entry.dvc_path}?md5={entry.md5}&version={entry.version}"
    frame = df if canonical.frame_kind(df) == "pandas" else None
    log_dataset(entry.ref, entry.digest, source, context,
                schema={"columns": entry.schema},
                profile={"num_rows": entry.rows, "num_columns": entry.columns,
                         "md5": entry.md5, "size": entry.size},
                df=frame)


@contextlib.contextmanager
def _open_repo(cfg: NbmlopsConfig, init: bool = True) -> Iterator[Any]:
    """An open DVC repository (``None`` when absent and ``init`` is false), closed after."""
    if not init and not (cfg.project_root / ".dvc").is_dir():
        yield None
        return
    repo = dvcfiles.open_repo(cfg.project_root, init=init)
    try:
        yield repo
    finally:
        repo.close()


# ---------------------------------------------------------------- reading


def resolve(ref: str, version: int | str | None = None,
            config: NbmlopsConfig | None = None) -> SnapshotVersion:
    """The catalog entry of ``"name@version"`` (or ``name`` + ``version``; latest if none).

    Raises
    ------
    SnapshotError
        Unknown name or version; the message lists what exists.
    """
    cfg = config or load_config()
    name, number = catalog.parse_ref(ref, version)
    folder = cfg.path(cfg.snapshot_dir)
    cat = catalog.Catalog.read(folder, name)
    if not cat.versions:
        raise catalog.missing_name(folder, name)
    return cat.get(number)


def locate(entry: SnapshotVersion, config: NbmlopsConfig | None = None) -> Path:
    """A local file holding ``entry``'s bytes: the DVC cache, else the remote (pulled)."""
    cfg = config or load_config()
    workspace = cfg.project_root / entry.path
    with _open_repo(cfg, init=False) as repo:
        if repo is None:
            raise SnapshotError(f"{cfg.project_root} has no DVC repository; cannot load "
                                f"{entry.ref}.", name=entry.name)
        cached = Path(dvcfiles.cache_path(repo, entry.md5))
        if cached.exists():
            return cached
        current = dvcfiles.read_dvcfile(Path(f"{workspace}.dvc"))
        if current and current.get("md5") == entry.md5 and workspace.exists():
            return workspace
        if remote.fetch(repo, entry.md5, cfg.dvc_remote):
            return cached
    raise SnapshotError(
        f"Data of {entry.ref} (md5 {entry.md5}) is neither in the DVC cache nor on the "
        f"remote {cfg.dvc_remote or '(default)'}; was it pushed (`nbmlops snapshot push`"
        ", then `nbmlops snapshot pull` restores it)?", name=entry.name,
        md5=entry.md5)


def load(
    name: str,
    version: int | str | None = None,
    kind: str | None = None,
    context: str = "training",
    config: NbmlopsConfig | None = None,
) -> Any:
    """Load a snapshot version back, as the kind of frame it was given as.

    Parameters
    ----------
    name
        ``"train"`` or ``"train@2"``.
    version
        Version number (default: latest; ignored when ``name`` has ``@``).
    kind
        Return ``"pandas"``, ``"pyarrow"`` or ``"polars"`` instead of the original kind.
    context
        MLflow dataset context when called inside a ``%%mlops run`` cell.
    config
        Settings (default: :func:`nbmlops.config.load_config`).

    Returns
    -------
    DataFrame or Table
        Equal to what was snapshotted (dtypes, categoricals, time zones, index).
    """
    cfg = config or load_config()
    entry = resolve(name, version, config=cfg)
    frame = _read(entry, kind, cfg)
    _log_dataset(entry, context, frame)
    return frame


def _read(entry: SnapshotVersion, kind: str | None, cfg: NbmlopsConfig) -> Any:
    want = kind or entry.kind
    if want not in canonical.KINDS:
        raise UsageArgumentError(f"kind={want!r}: choose one of {', '.join(canonical.KINDS)}.",
                                 parameter="kind")
    if want == "polars":
        try:
            import polars  # noqa: F401
        except ImportError:
            raise MissingDependencyError(f"{entry.ref} was a polars DataFrame: "
                                         "pip install polars (or pass kind='pandas').") from None
    table = canonical.read_table(locate(entry, cfg))
    return canonical.from_table(table, want)


def snapshots(name: str | None = None, config: NbmlopsConfig | None = None) -> SnapshotList:
    """Versions of ``name`` (oldest first), or the latest version of every snapshot."""
    cfg = config or load_config()
    folder = cfg.path(cfg.snapshot_dir)
    if name is not None:
        name, _ = catalog.parse_ref(name)
        cat = catalog.Catalog.read(folder, name)
        if not cat.versions:
            raise catalog.missing_name(folder, name)
        return SnapshotList(name, cat.versions)
    latest = [catalog.Catalog.read(folder, n).latest for n in catalog.names(folder)]
    return SnapshotList(None, [v for v in latest if v is not None])


def diff(a: str, b: str | None = None, key: str | None = None,
         config: NbmlopsConfig | None = None) -> SnapshotDiff:
    """Compare two versions: schema, rows, per-column summaries, and rows by ``key``.

    Parameters
    ----------
    a, b
        ``"train@2"`` and ``"train@3"``; ``b`` defaults to the latest version of a's name.
    key
        A column identifying rows: counts added, removed and changed rows.
    """
    from nbmlops.versioning.diffing import diff_frames

    cfg = config or load_config()
    ea = resolve(a, config=cfg)
    eb = resolve(b if b is not None else ea.name, config=cfg)
    fa, fb = _read(ea, "pandas", cfg), _read(eb, "pandas", cfg)
    return diff_frames(ea.ref, eb.ref, fa, fb, key=key)
