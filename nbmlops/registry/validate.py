"""The validation gate: candidate vs champion on one holdout, per slice, with paired CIs.

>>> result = validate("fraud@challenger", against="fraud@champion", data="holdout@2",
...                   target="is_fraud", slices=["merchant", "amount:4"],
...                   rules={"roc_auc": {"min_absolute_change": 0.0}})  # doctest: +SKIP
>>> result.verdict, result.exit_code                                 # doctest: +SKIP
('pass', 0)

Every validation — pass, fail or bad input — is appended to the registry's
audit log; a judged one is also set as tags on the candidate's version and
its JSON/HTML logged to the candidate's run (``validation/<id>.json``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nbmlops.config import NbmlopsConfig, load_config
from nbmlops.gates import FAIL, PASS, audited
from nbmlops.mlflow_gateway import registry as gw
from nbmlops.registry import record as rec
from nbmlops.registry.bootstrap import percentile_ci, resamples
from nbmlops.registry.holdout import Holdout, load_holdout, predict
from nbmlops.registry.metrics import PairedMetrics
from nbmlops.registry.refs import RegistryError, label, resolve
from nbmlops.registry.result import Row, ValidationResult
from nbmlops.registry.rules import Cell, Rule, judge, parse_rules
from nbmlops.registry.slices import overall, parse_slices

DEFAULT_RULES = {"binary": {"roc_auc": {"min_absolute_change": 0.0}},
                 "multiclass": {"accuracy": {"min_absolute_change": 0.0}},
                 "regression": {"rmse": {"min_absolute_change": 0.0}}}


@dataclass
class ValidateOptions:
    """Knobs of :func:`validate` besides what is compared.

    Attributes
    ----------
    metrics
        User metrics ``name -> fn(y_true, y_score, sample_weight=None) -> float``.
    n_boot, seed, ci
        Bootstrap replicates, their seed; ``ci=False`` judges point values (MLflow's way).
    min_slice_size
        Slices with fewer rows get status ``too small`` (never a silent pass).
    threshold
        Decision threshold (default: the champion's ``nbmlops.threshold`` tag, else 0.5).
    data_name
        Label of a DataFrame holdout in the record (default ``dataframe:<digest>``).
    record
        Write the outcome (audit log, version tags, run artifacts); False: only judge.
    config
        Settings (default :func:`~nbmlops.config.load_config`).
    """

    metrics: dict[str, Callable[..., float]] = field(default_factory=dict)
    n_boot: int = 1000
    seed: int = 0
    ci: bool = True
    min_slice_size: int = 100
    threshold: float | None = None
    data_name: str | None = None
    record: bool = True
    config: NbmlopsConfig | None = None


def validate(candidate: str, against: str | None = None, data: Any = None,
             target: str | None = None, slices: list[str] | str | None = None,
             rules: dict[str, Any] | None = None, **options: Any) -> ValidationResult:
    """Validate model ``candidate`` against ``against`` (default ``NAME@champion``).

    Parameters
    ----------
    candidate, against
        Model references: ``fraud@challenger``, ``fraud/7``.
    data
        Holdout: a DataFrame, a Parquet/CSV file or a snapshot name (``holdout@2``).
    target
        The label column.
    slices
        Slice specs (see :mod:`nbmlops.registry.slices`), a list or ``"a,b"``.
    rules
        ``{metric: {threshold|min_absolute_change|min_relative_change|greater_is_better}}``
        (default: ROC AUC / accuracy / RMSE must not get worse).
    **options
        Fields of :class:`ValidateOptions`.

    Returns
    -------
    ValidationResult
        ``verdict`` pass/fail, ``exit_code`` 0/1, the table and the forest plot.

    Raises
    ------
    RegistryError, UsageArgumentError
        Bad input (exit code 2); nothing is written to the registry.
    """
    opts = ValidateOptions(**options)
    cfg = opts.config or load_config()
    cl = gw.client(cfg.tracking_uri)
    audit_rec: dict[str, Any] = {"event": "validate", "candidate": candidate,
                                 "against": against, "at": rec.now(),
                                 "by": rec.current_user(cfg)}
    with audited(audit_rec, rec.audit_log(cfg)) if opts.record else _nothing(audit_rec):
        req = _Request(candidate, against, data, target, slices, rules)
        result = _judge(cl, req, opts, cfg)
        if opts.record:
            _record(cl, result, audit_rec, cfg)
    return result


class _nothing:  # noqa: N801 - a no-op stand-in for ``audited``
    def __init__(self, record: dict[str, Any]) -> None:
        self.record = record

    def __enter__(self) -> dict[str, Any]:
        return self.record

    def __exit__(self, *exc: Any) -> None:
        return None


@dataclass
class _Request:
    """What is compared, on what, by which rules."""

    candidate: str
    against: str | None
    data: Any
    target: str | None
    slices: Any
    rules: dict[str, Any] | None


def _judge(cl: Any, req: _Request, opts: ValidateOptions,
           cfg: NbmlopsConfig) -> ValidationResult:
    cand = resolve(cl, req.candidate)
    champ = resolve(cl, req.against or f"{cand.name}@champion")
    if (cand.name, cand.version) == (champ.name, champ.version):
        raise RegistryError(f"candidate and champion are the same version ({label(cand)}): "
                            "nothing to compare.", model=cand.name)
    hold = load_holdout(req.data, req.target, opts.data_name, cfg)
    slicings = [overall(len(hold.frame)), *parse_slices(hold.frame, req.slices, hold.target)]
    threshold = opts.threshold
    if threshold is None:
        threshold = float(champ.tags.get("nbmlops.threshold", 0.5))
    task, y, scores = predict([champ, cand], hold, cfg.tracking_uri)
    pm = PairedMetrics(task, y, scores, slicings, threshold, dict(opts.metrics),
                       k=scores[0].shape[1] if scores[0].ndim == 2 else 2)
    parsed = parse_rules(req.rules if req.rules is not None else DEFAULT_RULES[task], pm.names)
    point = pm.values(np.ones(len(y), dtype=np.int64))
    lo = hi = None
    if opts.ci:
        deltas = np.stack([_delta(pm.values(w)) for w in
                           resamples(len(y), opts.n_boot, opts.seed)])
        lo, hi = percentile_ci(deltas)
    rows = _rows(pm, slicings, point, (lo, hi), parsed, opts.min_slice_size)
    return _result(cand, champ, hold, task, threshold, rows, opts)


def _delta(values: np.ndarray) -> np.ndarray:
    return values[1] - values[0]


def _rows(pm: PairedMetrics, slicings: list[Any], point: np.ndarray, ci: tuple[Any, Any],
          rules: list[Rule], min_size: int) -> list[Row]:
    by_metric = {r.metric: r for r in rules}
    labels = [lab for sl in slicings for lab in sl.labels]
    sizes = np.concatenate([sl.sizes for sl in slicings])
    rows = []
    for m, metric in enumerate(pm.names):
        rule = by_metric.get(metric)
        for c, lab in enumerate(labels):
            champ, cand = float(point[0, m, c]), float(point[1, m, c])
            lo = None if ci[0] is None else float(ci[0][m, c])
            hi = None if ci[1] is None else float(ci[1][m, c])
            row = Row(metric, lab, int(sizes[c]), champ, cand, cand - champ, lo, hi, "info",
                      rule.describe() if rule else "")
            if sizes[c] < min_size:
                row.status = "too small"
            elif np.isnan(champ) or np.isnan(cand) or (lo is not None and np.isnan(lo)):
                row.status = "undefined"
            elif rule is not None:
                row.failed = judge(rule, Cell(cand, champ, lo, hi))
                row.status = "fail" if row.failed else "pass"
            rows.append(row)
    return rows


def _result(cand: gw.VersionInfo, champ: gw.VersionInfo, hold: Holdout, task: str,
            threshold: float, rows: list[Row], opts: ValidateOptions) -> ValidationResult:
    fails = [r for r in rows if r.status == "fail"]
    small = {r.slice for r in rows if r.status == "too small"}
    checked = [r for r in rows if r.status in ("pass", "fail")]
    if fails:
        worst = ", ".join(f"{r.metric} on {r.slice} (Δ {r.delta:+.4f})" for r in fails[:3])
        reason = f"{len(fails)} of {len(checked)} checks fail: {worst}"
    else:
        reason = f"all {len(checked)} checks pass"
    if small:
        reason += f"; {len(small)} slice(s) too small to judge (< {opts.min_slice_size} rows)"
    stamp = rec.now().replace(":", "").replace("-", "")
    return ValidationResult(
        candidate={"name": cand.name, "version": cand.version, "uri": cand.uri},
        champion={"name": champ.name, "version": champ.version, "uri": champ.uri},
        data=hold.label, target=hold.target, task=task, threshold=threshold,
        n_rows=len(hold.frame), n_boot=opts.n_boot if opts.ci else 0, ci=opts.ci, rows=rows,
        verdict="fail" if fails else "pass", reason=reason, exit_code=FAIL if fails else PASS,
        id=f"v{cand.version}-vs-v{champ.version}-{stamp}")


def _record(cl: Any, result: ValidationResult, audit_rec: dict[str, Any],
            cfg: NbmlopsConfig) -> None:
    """Audit line, then tags on the candidate's version and the report on its run."""
    name, version = result.candidate["name"], result.candidate["version"]
    audit_rec.update(model=name, version=version, against_version=result.champion["version"],
                     data=result.data, verdict=result.verdict, reason=result.reason,
                     exit_code=result.exit_code, id=result.id, ci=result.ci,
                     failures=[f"{r.metric}|{r.slice}" for r in result.failures][:50])
    written = rec.audit_log(cfg).append(audit_rec)
    result.audit_seq = written["seq"]
    summary = {"id": result.id, "against": result.champion["version"], "data": result.data,
               "verdict": result.verdict, "at": audit_rec["at"], "by": audit_rec["by"],
               "audit_seq": written["seq"], "ci": result.ci}
    gw.set_tags(cl, name, version, {
        "nbmlops.validation": rec.tag_json(summary),
        f"nbmlops.validated_against.{result.champion['version']}": rec.tag_json(summary)})
    info = gw.version(cl, name, version)
    if info is not None and info.run_id:
        gw.log_texts(cl, info.run_id, {f"validation/{result.id}.json": result.to_json(),
                                       f"validation/{result.id}.html": result.to_html()})
