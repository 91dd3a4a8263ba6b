"""``%mlops validate`` and ``%mlops models``: arguments -> one registry call each."""

from __future__ import annotations

from typing import Any

from IPython.core.magic_arguments import argument, magic_arguments


@magic_arguments()
@argument("candidate", help="Candidate model: NAME@ALIAS or NAME/VERSION.")
@argument("--against", "-a", help="Champion (default NAME@champion).")
@argument("--data", "-d", required=True,
          help="Holdout: a DataFrame variable, a snapshot (holdout@2) or a file.")
@argument("--target", "-t", required=True, help="Label column.")
@argument("--slices", "-s", help="Comma-separated: column, column:4 (bins) or a condition.")
@argument("--rule", "-r", action="append", default=[],
          help="METRIC:KEY=VALUE[,KEY=VALUE] (MLflow MetricThreshold keys), repeatable.")
@argument("--no-ci", action="store_true", help="Judge point values only (MLflow's semantics).")
@argument("--n-boot", type=int, default=1000, help="Bootstrap replicates (default 1000).")
@argument("--min-slice-size", type=int, default=100, help="Smaller slices: 'too small'.")
def validate(magics: Any, args: Any) -> Any:
    """Validate a candidate model against the champion: table per metric × slice + forest plot."""
    from IPython.display import display

    from nbmlops.registry.rules import rules_from_strings
    from nbmlops.registry.validate import validate as api_validate

    data = magics.shell.user_ns.get(args.data, args.data)
    result = api_validate(
        args.candidate, against=args.against, data=data, target=args.target,
        slices=args.slices, rules=rules_from_strings(args.rule), ci=not args.no_ci,
        n_boot=args.n_boot, min_slice_size=args.min_slice_size,
        data_name=args.data if data is not args.data else None,
        config=magics.resolved_config())
    magics.state.setdefault("registry", {})["last"] = result
    display(result)
    display(result.figure())
    return None


@magic_arguments()
@argument("name", nargs="?", help="A model: its versions, aliases, lineage, validation.")
def models(magics: Any, args: Any) -> Any:
    """Registered models, or one model's versions with aliases, lineage and validation status."""
    from IPython.display import display

    from nbmlops.registry.views import models as api_models

    display(api_models(args.name, config=magics.resolved_config()))
    return None
