"""``%mlops snapshot|snapshots|load|diff``: arguments -> one plain-API call."""

from __future__ import annotations

from typing import Any

from IPython.core.magic_arguments import argument, magic_arguments

from nbmlops.exceptions import UsageArgumentError


def _variable(magics: Any, name: str) -> Any:
    ns = magics.shell.user_ns
    if name not in ns:
        frames = [k for k, v in ns.items() if not k.startswith("_")
                  and type(v).__name__ in ("DataFrame", "Table")]
        have = ", ".join(sorted(frames)) or "none"
        raise UsageArgumentError(f"No variable {name!r} in the notebook. DataFrames: {have}.",
                                 parameter="variable")
    return ns[name]


@magic_arguments()
@argument("variable", help="The DataFrame variable (pandas, pyarrow Table or polars).")
@argument("--name", "-n", help="Snapshot name (default: the variable's name).")
@argument("--message", "-m", help="Why this version exists.")
@argument("--commit", action="store_true", help="Git commit + tag snapshot/<name>/v<k>.")
@argument("--push", action="store_true", help="Push to the DVC remote, check dvc status -c.")
@argument("--context", default="training", help="MLflow dataset context inside %%%%mlops run.")
def snapshot(magics: Any, args: Any) -> Any:
    """Freeze a DataFrame into DVC as the next version of a snapshot.

    Unchanged data (same logical hash as the latest version) returns that
    version without writing anything. Example:
    %mlops snapshot train_df --name train -m "after dedup"
    """
    from nbmlops.versioning.api import snapshot as api_snapshot

    df = _variable(magics, args.variable)
    name = str(args.variable if args.name is None else _unquote(args.name))  # "" is refused
    return api_snapshot(df, name, message=_unquote(args.message),
                        push=args.push, commit=args.commit, context=args.context,
                        config=magics.resolved_config())


@magic_arguments()
@argument("name", nargs="?", help="A snapshot name (default: all snapshots, latest versions).")
def snapshots(magics: Any, args: Any) -> Any:
    """List snapshot versions with rows, columns, md5, logical hash and message."""
    from nbmlops.versioning.api import snapshots as api_snapshots

    return api_snapshots(args.name, config=magics.resolved_config())


@magic_arguments()
@argument("ref", help="name or name@version, e.g. train@2.")
@argument("--kind", choices=["pandas", "pyarrow", "polars"],
          help="Return this kind instead of the one snapshotted.")
@argument("--context", default="training", help="MLflow dataset context inside %%%%mlops run.")
def load(magics: Any, args: Any) -> Any:
    """Load a snapshot version: df = %mlops load train@2 (pulls from the remote if needed)."""
    from nbmlops.versioning.api import load as api_load

    return api_load(args.ref, kind=args.kind, context=args.context,
                    config=magics.resolved_config())


@magic_arguments()
@argument("a", help="First version, e.g. train@2.")
@argument("b", nargs="?", help="Second version (default: latest of the same name).")
@argument("--key", "-k", help="Key column: count added, removed and changed rows.")
def diff(magics: Any, args: Any) -> Any:
    """Compare two versions: schema, row counts, column summaries (and rows by --key)."""
    from nbmlops.versioning.api import diff as api_diff

    return api_diff(args.a, args.b, key=args.key, config=magics.resolved_config())


def _unquote(text: str | None) -> str | None:
    if text and len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    return text
