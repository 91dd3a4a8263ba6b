"""Evidence across windows: a CUSUM per feature on its standardised effect.

Each judged feature of each window has ``z`` (:func:`nbmlops.drift.calibration.standardised`):
``z = (log(effect - floor) - mu(m)) / sigma(m)`` where ``mu`` and ``sigma``
describe ``log(effect)`` with no drift at that window's size, so ``z`` is about
N(0, 1) on stable data whatever the window size. Per feature (and for the
multivariate signal, :mod:`nbmlops.drift.multivariate`), in time order::

    S_0 = 0,   S_t = max(0, S_{t-1} + z_t - k)        k = 0.5

and the rule alarms while ``S_t > h``. A ramp too small for any single window
still raises ``z`` a little every window, and ``S`` grows until it crosses.
``h`` is set from the false-alarm rate per window ``r`` (``sequential_rate``,
default 0.001) and the number ``d`` of streams, by Siegmund's approximation of
the in-control average run length of a CUSUM of N(0, 1) increments::

    ARL0(h) = (exp(2 k b) - 2 k b - 1) / (2 k^2),   b = h + 1.166

solved for ``ARL0 = d / r`` (a union bound over the streams: about ``r`` false
alarms per window in all). The windows where ``S`` left 0 before a crossing
are reported as where the evidence started building.
"""

from __future__ import annotations

import math
from typing import Any

K = 0.5
STREAM_MV = "<multivariate>"
JUDGED = ("ok", "warn", "drift")


def threshold(rate: float, streams: int, k: float = K) -> float:
    """``h`` such that the CUSUM's in-control run length is ``streams / rate`` windows."""
    target = max(streams, 1) / rate

    def arl(b: float) -> float:
        return (math.exp(2 * k * b) - 2 * k * b - 1) / (2 * k * k)

    lo, hi = 0.0, 200.0
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if arl(mid) < target else (lo, mid)
    return max(hi - 1.166, 0.5)


def _streams(w: Any, include_prediction: bool) -> dict[str, float]:
    """The ``z`` of every stream of window ``w``."""
    out = {n: f.z for n, f in w.features.items() if f.status in JUDGED and f.z is not None}
    if include_prediction and w.prediction is not None and w.prediction.z is not None \
            and w.prediction.status in JUDGED:
        out[w.prediction.name] = w.prediction.z
    mv = getattr(w, "multivariate", None)
    if mv:
        out[STREAM_MV] = min(mv["z"], 8.0)
    return out


def apply(windows: list[Any], config: Any, verdict: str, reason: str,
          selected: list[str] | None = None) -> tuple[str, str]:
    """Run the multivariate and sequential rules over ``windows`` (time order), in place.

    Sets each window's ``evidence`` (stream -> ``S_t``) and ``signals`` (the
    rules that fired) and raises its verdict to ``drift`` when a rule fired.

    Returns
    -------
    tuple
        The period's ``(verdict, reason)``: ``drift`` when the multivariate or
        sequential rule fired in any window of ``selected`` (None: all).
    """
    names = sorted({n for w in windows for n in _streams(w, config.include_prediction)})
    h = threshold(config.sequential_rate, len(names))
    s: dict[str, float] = dict.fromkeys(names, 0.0)
    since: dict[str, str | None] = dict.fromkeys(names)
    fired: list[str] = []
    for w in windows:
        if w.verdict not in JUDGED:
            w.evidence = {n: round(v, 4) for n, v in s.items()}
            continue
        notes = _multivariate_rule(w, config)
        if config.sequential:
            for n, z in _streams(w, config.include_prediction).items():
                new = max(0.0, s[n] + z - K)
                if s[n] == 0.0 and new > 0.0:
                    since[n] = w.key
                s[n] = new
                if new > h:
                    label = "the multivariate signal" if n == STREAM_MV else n
                    notes.append(f"sequential: evidence on {label} building since "
                                 f"{since[n]}, S={new:.1f} > h={h:.1f}")
            w.evidence = {n: round(v, 4) for n, v in s.items()}
        w.signals = notes
        if notes:
            w.verdict = "drift"
        if notes and (selected is None or w.key in selected):
            fired.append(f"{w.key}: {notes[0]}")
    if fired and verdict in ("ok", "warn"):
        more = f" (+{len(fired) - 1} more windows)" if len(fired) > 1 else ""
        return "drift", f"{fired[0]}{more}"
    return verdict, reason


def _multivariate_rule(w: Any, config: Any) -> list[str]:
    """The window's multivariate p-value, Bonferroni-corrected with its features."""
    mv = getattr(w, "multivariate", None)
    if not mv or not config.multivariate:
        return []
    family = 1 + sum(1 for f in w.features.values() if f.status in JUDGED)
    p = mv["p"] * family if config.multiple_testing != "none" else mv["p"]
    if p < config.alpha:
        return [f"multivariate: reconstruction error {mv['error']:.3g} vs "
                f"{mv['reference']:.3g} (z={mv['z']:.1f})"]
    return []


def onsets(windows: list[Any], h: float | None = None) -> list[dict[str, Any]]:
    """Per stream that crossed: where its evidence started building and where it crossed."""
    out: dict[str, dict[str, Any]] = {}
    prev: dict[str, float] = {}
    start: dict[str, str] = {}
    for w in windows:
        for n, v in (getattr(w, "evidence", None) or {}).items():
            if prev.get(n, 0.0) == 0.0 and v > 0.0:
                start[n] = w.key
            crossed = any(n in note or (n == STREAM_MV and "multivariate" in note)
                          for note in (getattr(w, "signals", None) or [])
                          if note.startswith("sequential"))
            if crossed and n not in out:
                out[n] = {"stream": n, "since": start.get(n), "crossed": w.key}
            prev[n] = v
    return list(out.values())
