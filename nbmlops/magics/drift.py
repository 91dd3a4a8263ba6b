"""``%mlops drift REF CUR``: the drift panel from the notebook.

The handler makes one call of :func:`nbmlops.widgets.drift.drift_panel`, which
resolves the reference, rules and time column as the CI gate does
(:mod:`nbmlops.drift.inputs`).
"""

from __future__ import annotations

from typing import Any

from IPython.core.magic_arguments import argument, magic_arguments


def _resolve(magics: Any, text: str) -> Any:
    """A variable of the user's namespace by that name, else the text (path/snapshot)."""
    ns = getattr(getattr(magics, "shell", None), "user_ns", None) or {}
    return ns[text] if text.isidentifier() and text in ns else text


@magic_arguments()
@argument("reference", help="Reference: snapshot NAME@VERSION, a profile .json, a data "
          "file/folder/glob, or a variable (DataFrame or fitted profile).")
@argument("current", help="Current data: file, folder or glob of logs (Parquet/CSV/JSONL), "
          "a snapshot NAME@VERSION, or a DataFrame variable.")
@argument("--window", default=None, help="Window: a frequency such as 1h, 1D, 7D (on "
          "--time-column) or a row count. Default: one window.")
@argument("--time-column", default=None, help="Timestamp column of the current data "
          "(default: the profile's, else 'ts' when --window is a frequency).")
@argument("--live", default=None, metavar="INTERVAL", help="Watch CUR (a growing file or "
          "folder) every INTERVAL (e.g. 30s), reading only new rows; stop with the panel's "
          "button or panel.stop().")
@argument("--config", default=None, help="Drift YAML (default: the project's drift_config, "
          "drift.yaml, when it exists). Exported by the panel, read by the CI gate.")
@argument("--target", default=None, help="Label column (when the reference is fitted here).")
@argument("--prediction", default=None, help="Model output column (when fitted here).")
@argument("--exclude", "-x", action="append", default=None, metavar="COLUMN",
          help="Column to leave out (repeatable; when the reference is fitted here).")
@argument("--labels", default=None, help="Late labels joined to CUR by --id-column: a "
          "DataFrame variable or a Parquet/CSV/JSONL file, folder or glob (id + target or "
          "'label').")
@argument("--id-column", default=None, help="Column joining --labels to CUR "
          "(default request_id).")
def drift(magics: Any, args: Any) -> Any:
    """Show the interactive drift panel of CUR against REF."""
    from nbmlops.widgets.drift import drift_panel

    ref = _resolve(magics, args.reference)
    cur = _resolve(magics, args.current)
    cfg = magics.resolved_config()
    live = magics.state.setdefault("drift", {}).setdefault("live", {})
    key = (args.reference, args.current)
    if key in live:  # the cell was run again: one watcher per log, not one per run
        live.pop(key).stop()
    labels = {"labels": _resolve(magics, args.labels), "id_column": args.id_column} \
        if args.labels is not None else {}
    panel = drift_panel(ref, cur, time_column=args.time_column, window=args.window,
                        config=args.config, live=args.live, export_path=cfg.path(cfg.drift_config),
                        target=args.target, prediction=args.prediction, exclude=args.exclude,
                        **labels)
    if panel.monitor is not None:
        live[key] = panel
    return panel
