"""From what a user typed to what is compared: one resolver for the API, panel, magic and gate.

``%mlops drift REF CUR``, :func:`nbmlops.drift_panel` and ``nbmlops drift REF CUR``
all turn their arguments into a comparison here, so they judge the same
reference under the same rules:

- :func:`resolve_reference`: a fitted profile, a saved profile JSON, or
  reference data (DataFrame, file, folder, glob, ``name@version``) fitted here;
- :func:`resolve_config`: a :class:`~nbmlops.drift.config.DriftConfig`, its
  dict form, a YAML path, or the project's ``drift_config`` file when it exists;
- :func:`~nbmlops.drift.windows.default_time_column`: the time column in force;
- :func:`input_hash`: the content hash of an input, for the audit log.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from nbmlops.drift import sources as src
from nbmlops.drift.config import DriftConfig
from nbmlops.drift.profile import fit_reference, load_profile
from nbmlops.drift.profile_data import FORMAT, ProfileData
from nbmlops.drift.windows import datetime_column, default_time_column


def resolve_reference(reference: Any, *, target: str | None = None,
                      prediction: str | None = None, time_column: str | None = None,
                      exclude: list[str] | None = None, window: Any = None) -> ProfileData:
    """The reference profile ``reference`` names, fitting one from data when needed.

    Parameters
    ----------
    reference
        A fitted profile (returned as it is), a saved profile JSON, or reference
        data: a pandas DataFrame, a Parquet/CSV/JSONL file, folder or glob, or a
        snapshot name such as ``"train@3"``.
    target, prediction
        Label and model-output columns, used when a profile is fitted here.
    time_column, window
        The time column (default: :func:`~nbmlops.drift.windows.default_time_column`)
        is left out of a profile fitted here when the reference data has it
        (logs have it, training data rarely does).
    exclude
        Columns to leave out of a profile fitted here (an id column ...).

    Returns
    -------
    ProfileData
        A :class:`~nbmlops.drift.profile.ReferenceProfile` unless ``reference``
        already was profile data; its ``source`` says where the data came from.
    """
    if isinstance(reference, ProfileData):
        return reference
    if _is_profile_json(reference):
        return load_profile(reference)
    df, source = src.load_frame(reference, role="reference")
    tcol = default_time_column(None, window, time_column)
    if tcol not in df.columns:  # a found datetime column is the time column, not a feature
        tcol = datetime_column(df, {c for c in (target, prediction, *(exclude or [])) if c})
    fitted = fit_reference(df, target=target, prediction=prediction, exclude=exclude,
                           time_column=tcol if tcol in df.columns else None)
    fitted.source = source  # where the reference came from (file, snapshot), for the audit
    return fitted


def _is_profile_json(reference: Any) -> bool:
    """A ``.json`` file that holds a saved profile (other JSON files are data)."""
    if not isinstance(reference, str | os.PathLike) or not str(reference).endswith(".json"):
        return False
    path = Path(reference)
    if not path.is_file():
        return False
    with path.open(encoding="utf-8", errors="replace") as fh:
        return FORMAT.split("/")[0] in fh.read(200)


def resolve_config(config: Any = None, project: Any = None) -> DriftConfig:
    """The rules in force: ``config``, else the project's ``drift_config`` file, else defaults.

    Parameters
    ----------
    config
        A :class:`DriftConfig`, its dict form or a YAML path; None for the default.
    project
        :class:`~nbmlops.config.NbmlopsConfig` (default: :func:`~nbmlops.config.load_config`).
    """
    if config is not None:
        return DriftConfig.coerce(config)
    path = default_config_path(project)
    return DriftConfig.load(path) if path.is_file() else DriftConfig()


def default_config_path(project: Any = None) -> Path:
    """The project's drift YAML (``drift_config``): read by default, written by "export config"."""
    from nbmlops.config import load_config

    proj = project or load_config()
    return Path(proj.path(proj.drift_config))


def input_hash(data: Any) -> str | None:
    """Content hash of an input: file bytes (streamed), a DataFrame's digest, or None."""
    if src.is_frame(data):
        from nbmlops.hashing import frame_digest

        return frame_digest(data)
    if isinstance(data, str) and src.is_snapshot_name(data):
        return src.snapshot_digest(data)
    if isinstance(data, str | os.PathLike | list | tuple):
        h = hashlib.blake2b(digest_size=16)
        for p in src.expand_paths(data):
            h.update(p.name.encode())
            with open(p, "rb") as fh:
                while chunk := fh.read(1 << 20):
                    h.update(chunk)
        return h.hexdigest()
    return None

