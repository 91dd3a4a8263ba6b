"""``nbmlops run | sweep | export | pipeline init | ci init``: notebook pipelines.

Each command parses options and calls one function of :mod:`nbmlops.pipeline`.
Exit codes: 0 success, 1 the notebook failed, 2 bad parameters or input,
3 the kernel died or timed out.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

_PARAM = click.option("-p", "--param", "params", nargs=2, multiple=True,
                      metavar="NAME VALUE",
                      help="A parameter; VALUE is parsed for the type the parameters "
                      "cell declares.")
_FILE = click.option("-f", "--params-file", "params_files", multiple=True,
                     metavar="FILE[:SECTION]",
                     help="YAML file of parameters (optionally one section of it).")
_JSON = click.option("--json", "as_json", is_flag=True, help="Print a machine-readable result.")
_EXPERIMENT = click.option("--experiment", default=None,
                           help="MLflow experiment (default: config).")
_TIMEOUT = click.option("--timeout", type=float, default=None,
                        help="Seconds a cell may run; longer counts as a timeout (exit 3).")
_KERNEL = click.option("--kernel", "kernel_name", default=None,
                       help="Kernelspec (default: the notebook's, else python3).")
_CWD = click.option("--cwd", type=click.Path(file_okay=False, exists=True), default=None,
                    help="The kernel's working directory (default: the project root).")


def _given(params_files: tuple[str, ...]) -> dict[str, Any]:
    from nbmlops.pipeline.plan import load_params_file

    given: dict[str, Any] = {}
    for spec in params_files:
        given.update(load_params_file(spec))
    return given


def _interrupted(exc: BaseException, what: str) -> None:
    """Ctrl-C / SIGTERM: say what happened and exit 128 + the signal (130, 143)."""
    click.echo(f"error: {exc}; kernels stopped, {what} marked KILLED", err=True)
    sys.exit(getattr(exc, "exit_code", 130))


def _bad_input(exc: Exception, as_json: bool) -> None:
    from nbmlops.exceptions import NbmlopsError
    from nbmlops.pipeline.results import describe_error

    if not isinstance(exc, NbmlopsError):
        raise exc
    if as_json:
        click.echo(json.dumps(describe_error(exc), indent=2))
    click.echo(f"error: {exc}", err=True)
    sys.exit(exc.exit_code)


@click.command()
@click.argument("notebook", type=click.Path(dir_okay=False))
@_PARAM
@_FILE
@click.option("-o", "--output", default=None, type=click.Path(dir_okay=False),
              help="Executed notebook path (default: next to the notebook's outputs).")
@_CWD
@_TIMEOUT
@_KERNEL
@_EXPERIMENT
@click.option("--run-name", default=None, help="MLflow run name (default: notebook stem).")
@click.option("--progress/--no-progress", default=False, help="Show a per-cell progress bar.")
@click.option("--log-output", is_flag=True, help="Stream the notebook's outputs to stderr.")
@_JSON
def run(notebook: str, as_json: bool, **options: Any) -> None:
    """Run NOTEBOOK with parameters in a fresh kernel, tracked as one MLflow run.

    Values are checked against the cell tagged `parameters` and coerced to
    the declared types; an unknown name or a value that does not fit is an
    error. The executed notebook is written next to the outputs, never over
    NOTEBOOK. Exit codes: 0 ok, 1 the notebook failed, 2 bad parameters or
    input, 3 the kernel died or timed out.

    Example: nbmlops run notebooks/train.ipynb -p C 0.5 -p max_iter 300
    """
    from nbmlops.pipeline.interrupts import Interrupted
    from nbmlops.pipeline.runner import run_notebook

    if options["log_output"]:
        import logging

        logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:  # the other options are run_notebook's keywords of the same names
        given = _given(options.pop("params_files"))
        text = dict(options.pop("params"))
        result = run_notebook(notebook, given, text_params=text, raise_on_error=False, **options)
    except Interrupted as exc:
        _interrupted(exc, "the run and its cell runs")
    except Exception as exc:  # only nbmlops errors are handled, others re-raised
        _bad_input(exc, as_json)
        return
    # a failure is said once: on stderr (the summary on stdout leaves the error out)
    summary = str(result) if result.ok else str(result).replace(f"\n  {result.error}", "", 1)
    click.echo(json.dumps(result.to_dict(), indent=2) if as_json else summary)
    if not result.ok:
        click.echo(f"error: {result.error} (executed notebook: {result.output_notebook})",
                   err=True)
    sys.exit(result.exit_code)


@click.command()
@click.argument("notebook", type=click.Path(dir_okay=False))
@click.option("--grid", "grid", multiple=True, metavar="NAME=V1,V2,...",
              help="Values to sweep for one parameter (repeat for a grid).")
@click.option("--params-files", "param_sets", multiple=True, metavar="FILE[:SECTION]",
              help="One YAML file per combination (instead of or with --grid).")
@_PARAM
@_FILE
@click.option("-j", "--jobs", type=click.IntRange(1), default=1, show_default=True,
              help="Combinations run in parallel, each in its own kernel.")
@click.option("--metric", default=None, help="Metric that picks the best run.")
@click.option("--mode", type=click.Choice(["max", "min"]), default="max", show_default=True,
              help="Whether the best run has the largest or smallest --metric.")
@click.option("--out-dir", default=None, type=click.Path(file_okay=False),
              help="Folder for the combinations' outputs (default outputs/sweeps/<stem>-<time>).")
@_CWD
@_TIMEOUT
@_KERNEL
@_EXPERIMENT
@click.option("--progress/--no-progress", default=True, help="Show a progress bar.")
@click.option("--cluster", default=None, metavar="tcp://HOST:PORT",
              help="Run each combination as a task on this Dask scheduler (pip install "
              "'nbmlops[dask]'); --out-dir may then be an fsspec URL.")
@click.option("--retries", type=click.IntRange(0), default=1, show_default=True,
              help="With --cluster: times a combination whose worker died runs again.")
@_JSON
def sweep(notebook: str, as_json: bool, **options: Any) -> None:
    """Run NOTEBOOK once per parameter combination, JOBS at a time.

    Each combination runs in its own kernel as an MLflow child run under one
    sweep run, writing its outputs to its own folder. A failing combination
    does not stop the others; the exit code is then non-zero (1, or 3 when a kernel
    died or timed out).

    Example: nbmlops sweep notebooks/train.ipynb --grid C=0.1,1,10 --jobs 2
    --metric accuracy
    """
    from nbmlops.pipeline.interrupts import Interrupted
    from nbmlops.pipeline.plan import load_params_file
    from nbmlops.pipeline.sweep import parse_grid
    from nbmlops.pipeline.sweep import sweep as run_sweep

    try:  # the other options are sweep's keywords of the same names
        options.update(
            grid=parse_grid(options["grid"]),
            param_sets=[load_params_file(s) for s in options["param_sets"]],
            base=_given(options.pop("params_files")), base_text=dict(options.pop("params")),
            progress=options["progress"] and not as_json)
        result = run_sweep(notebook, **options)
    except (Interrupted, KeyboardInterrupt) as exc:  # KeyboardInterrupt: a --cluster sweep
        _interrupted(exc, "the sweep run and every open combination run")
    except Exception as exc:  # only nbmlops errors are handled, others re-raised
        _bad_input(exc, as_json)
        return
    click.echo(json.dumps(result.to_dict(), indent=2) if as_json else
               f"{result.table()}\nexecuted notebooks: {result.out_dir}/<###>/ (one folder per #)")
    if result.failed:
        click.echo(f"error: {len(result.failed)} of {len(result.runs)} combinations failed",
                   err=True)
    sys.exit(result.exit_code)


@click.command()
@click.argument("notebook", type=click.Path(dir_okay=False, exists=True))
@click.option("--stage", default=None, help="Stage and params.yaml section (default: stem).")
@click.option("--params-file", default="params.yaml", show_default=True,
              help="Parameters file DVC reads.")
@click.option("--dvc-file", default="dvc.yaml", show_default=True, help="Pipeline file.")
@click.option("--dvc-init", "init_dvc", is_flag=True,
              help="Run `dvc init` first when the project is not a DVC repository yet.")
@_JSON
def export(notebook: str, stage: str | None, params_file: str, dvc_file: str,
           init_dvc: bool, as_json: bool) -> None:
    """Write/update params.yaml (a section per notebook) and a dvc.yaml stage.

    The stage runs `nbmlops run -f params.yaml:<stage>` (values are read from
    the file, never parsed by a shell); its deps are the notebook and the
    snapshots it loads (not those it writes), its outs the files its
    parameters cell marks `# out:`, its metrics the `# metrics:` file; the
    executed notebook is an uncached output. Other stages and sections are
    kept. Then `dvc repro` (after `dvc init` outside a DVC repository, or
    pass --dvc-init), or `dvc exp run -S <stage>.<param>=<value>`.
    """
    from nbmlops.pipeline.export import export as run_export

    try:
        result = run_export(notebook, stage=stage, params_file=params_file, dvc_file=dvc_file,
                            init_dvc=init_dvc)
    except Exception as exc:  # only nbmlops errors are handled, others re-raised
        _bad_input(exc, as_json)
        return
    click.echo(json.dumps(result.to_dict(), indent=2) if as_json else str(result))


@click.group()
def pipeline() -> None:
    """Notebook pipeline helpers."""


@pipeline.command("init")
@click.argument("notebook", type=click.Path(dir_okay=False, exists=True))
@_JSON
def pipeline_init(notebook: str, as_json: bool) -> None:
    """Tag NOTEBOOK's parameters cell (its first cell of literal assignments).

    Only the cell's tags change; everything else in the file stays as it was.
    Prints the parameters and their types.
    """
    from nbmlops.pipeline.tagging import tag_parameters_cell

    result = tag_parameters_cell(notebook)
    click.echo(json.dumps(result.to_dict(), indent=2) if as_json else str(result))


@click.group()
def ci() -> None:
    """Continuous-integration helpers."""


@ci.command("init")
@click.option("--notebook", "notebooks", multiple=True,
              help="Notebook to run when there is no dvc.yaml (repeatable).")
@click.option("--force", is_flag=True, help="Overwrite existing workflow files.")
@_JSON
def ci_init(notebooks: tuple[str, ...], force: bool, as_json: bool) -> None:
    """Write .github/workflows/nbmlops.yml and ci/nbmlops.sh.

    The workflow installs the project, runs `dvc repro` (or `nbmlops run` for
    each notebook when there is no dvc.yaml) and keeps the executed notebooks
    as artifacts. The shell script does the same on any CI.
    """
    from nbmlops.pipeline.ci import init_ci

    result = init_ci(notebooks=list(notebooks), force=force)
    click.echo(json.dumps(result.to_dict(), indent=2) if as_json else str(result))
