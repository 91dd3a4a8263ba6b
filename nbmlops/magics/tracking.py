"""``%mlops init|runs|ui|sync`` and ``%%mlops run``: arguments -> one plain-API call."""

from __future__ import annotations

from typing import Any

from IPython.core.magic_arguments import argument, magic_arguments

from nbmlops.exceptions import UsageArgumentError


def on_load(magics: Any) -> None:
    """Hook run by ``%load_ext nbmlops``: reap runs of dead kernels in the background.

    No MLflow import here: the reaper thread reads the SQLite store with
    :mod:`sqlite3` and imports MLflow only when a run must be marked KILLED.
    """
    from nbmlops.tracking import reaper

    magics.state.setdefault("tracking", {})
    reaper.start_background(magics.resolved_config)


def _tags(pairs: list[str] | None) -> dict[str, str]:
    tags = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageArgumentError(f"--tags expects key=value, got {pair!r}.", parameter="--tags")
        tags[key.strip()] = value
    return tags


def _metric_names(text: str | None) -> list[str] | None:
    if text is None:
        return None
    names = [n.strip() for n in text.split(",") if n.strip()]
    bad = [n for n in names if not n.isidentifier()]
    if not names or bad:
        raise UsageArgumentError(f"--metrics expects comma-separated names, got {text!r}.",
                                 parameter="--metrics")
    return names


def _command_line(values: dict[str, Any]) -> str:
    """The magic line as the user wrote it: ``run --no-autolog --tags a=1 b=2``.

    IPython's magic parser keeps quotes in values (``--name 'my run'``), so
    values are written back as they are.
    """
    parts = ["run"]
    for key, value in values.items():
        if value is None or value is False:
            continue
        flag = f"--{key.replace('_', '-')}"
        if value is True:
            parts.append(flag)
        elif isinstance(value, list):
            parts.append(" ".join([flag, *(str(v) for v in value)]))
        else:
            parts.append(f"{flag} {value}")
    return " ".join(parts)


@magic_arguments()
@argument("--name", "-n", help="Run name (also links re-runs of this cell).")
@argument("--experiment", "-e", help="MLflow experiment (default: configured).")
@argument("--tags", "-t", nargs="+", metavar="KEY=VALUE", help="Extra run tags.")
@argument("--nested", action="store_true", help="Nest under the active MLflow run.")
@argument("--seed", type=int, help="Seed random, numpy and torch before the cell.")
@argument("--no-autolog", action="store_true", help="Skip MLflow's sklearn autolog.")
@argument("--metrics", help="Only log these top-level names as metrics (a,b,c).")
@argument("--primary-metric", help="Metric ranking runs: max:auc, min:loss (default: setting).")
@argument("--register", metavar="NAME[:VAR]", help="Register the model (autologged, or VAR) "
          "as a new version of NAME, alias @challenger.")
def run(magics: Any, args: Any, cell: str) -> None:
    """Run the cell as one MLflow run: params, metrics, code, git, env, data, output.

    The cell runs exactly as without the magic; a run card is shown below it.
    """
    from IPython.display import display

    from nbmlops.magics._cell import ShellExecutor
    from nbmlops.magics._kernel import notebook_path
    from nbmlops.tracking.api import capture_run
    from nbmlops.tracking.ranking import parse_primary

    parse_primary(args.primary_metric)  # a bad direction is a one-line error before the cell
    config = magics.resolved_config(primary_metric=args.primary_metric)
    shell = magics.shell
    # the note shows the magic line as the user wrote it (the dispatcher keeps it; the
    # note is redacted as a whole)
    command = magics.state.get("line") or _command_line(vars(args))
    result = capture_run(
        cell, shell.user_ns, config=config, shell=shell, executor=ShellExecutor(shell),
        notebook=notebook_path(shell), name=args.name, tags=_tags(args.tags),
        experiment=args.experiment, nested=args.nested, seed=args.seed,
        autolog=False if args.no_autolog else None, metrics=_metric_names(args.metrics),
        command=command.strip(),
    )
    magics.state.setdefault("tracking", {})["last"] = result
    display(result)
    if args.register:
        from nbmlops.registry.register import register_cell

        print(register_cell(args.register, result, shell.user_ns, config))


@magic_arguments()
@argument("--experiment", "-e", help="MLflow experiment for the following runs.")
@argument("--tracking-uri", "-u", help="MLflow tracking URI (sqlite:///..., http://...).")
def init(magics: Any, args: Any) -> None:
    """Choose the experiment and tracking store for this session (optional)."""
    from nbmlops.tracking.api import init as api_init

    if args.experiment is None and args.tracking_uri is None:
        raise UsageArgumentError("give --experiment and/or --tracking-uri.", parameter="init")
    if args.experiment is not None:
        magics.experiment = args.experiment
    if args.tracking_uri is not None:
        magics.tracking_uri = args.tracking_uri
    api_init(experiment=args.experiment, tracking_uri=args.tracking_uri)
    config = magics.resolved_config()
    print(f"nbmlops: experiment {config.experiment!r} in {config.tracking_uri}")


@magic_arguments()
@argument("--experiment", "-e", help="Experiment (default: configured).")
@argument("--last", "-l", type=int, default=20, help="How many runs (newest first).")
@argument("--metric", "-m", help="Metric for the chart (default: most common).")
@argument("--param", "-p", help="Param for the chart's x axis (default: most varied).")
@argument("--all", "-a", dest="show_all", action="store_true",
          help="Also show what MLflow's autolog recorded.")
def runs(magics: Any, args: Any) -> Any:
    """Table of recent runs and a plotly chart of a metric against a param."""
    from IPython.display import display

    from nbmlops.tracking.query import runs as api_runs

    table = api_runs(args.experiment, last=args.last, metric=args.metric, param=args.param,
                     config=magics.resolved_config(), show_all=args.show_all)
    display(table)
    if table.metric and table.rows:
        display(table.chart())
    return None


@magic_arguments()
@argument("--port", type=int, help="Port (default: a free one).")
def ui(magics: Any, args: Any) -> None:
    """Start ``mlflow ui`` for the current store in the background and show the link."""
    from IPython.display import display

    from nbmlops.tracking.ui import start_ui

    server = start_ui(magics.resolved_config(), port=args.port)
    magics.ui_url = server.url
    display(server)


@magic_arguments()
def sync(magics: Any, args: Any) -> None:
    """Upload runs spooled while the tracking server was unreachable."""
    from nbmlops.tracking.spool import sync as api_sync

    print(api_sync(magics.resolved_config()))
