"""What changed between two versions: schema, rows, column summaries, keyed rows."""

from __future__ import annotations

import contextlib
import math
from typing import Any

from nbmlops.exceptions import UsageArgumentError
from nbmlops.versioning.results import SnapshotDiff

#: how many example keys to keep per kind of row change
EXAMPLES = 5


def diff_frames(a: str, b: str, fa: Any, fb: Any, key: str | None = None) -> SnapshotDiff:
    """Compare two pandas frames loaded from snapshots ``a`` and ``b``."""
    cols_a, cols_b = list(fa.columns), list(fb.columns)
    common = [c for c in cols_a if c in set(cols_b)]
    result = SnapshotDiff(
        a, b, (len(fa), len(fb)),
        added_columns=[c for c in cols_b if c not in set(cols_a)],
        removed_columns=[c for c in cols_a if c not in set(cols_b)],
        changed_types={c: (str(fa[c].dtype), str(fb[c].dtype)) for c in common
                       if str(fa[c].dtype) != str(fb[c].dtype)},
    )
    for c in common:
        changed = _changed_stats(summary(fa[c]), summary(fb[c]))
        if changed:
            result.summaries[c] = changed
    if key is not None:
        _by_key(result, fa, fb, key, [c for c in common if c != key])
    return result


def summary(col: Any) -> dict[str, Any]:
    """Nulls and distinct values; mean/std/min/max for numbers."""
    import pandas as pd

    out: dict[str, Any] = {"nulls": int(col.isna().sum())}
    if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
        values = col.dropna().astype("float64")
        if len(values):
            out.update(mean=float(values.mean()), std=float(values.std(ddof=0)),
                       min=float(values.min()), max=float(values.max()))
    else:
        with contextlib.suppress(TypeError):  # unhashable values
            out["distinct"] = int(col.nunique(dropna=True))
    return out


def _changed_stats(sa: dict[str, Any], sb: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    changed = {}
    for stat in dict.fromkeys([*sa, *sb]):
        x, y = sa.get(stat), sb.get(stat)
        if isinstance(x, float) and isinstance(y, float):
            if math.isclose(x, y, rel_tol=1e-12, abs_tol=1e-12):
                continue
        elif x == y:
            continue
        changed[stat] = (x, y)
    return changed


def _by_key(result: SnapshotDiff, fa: Any, fb: Any, key: str, common: list[str]) -> None:
    import pandas as pd

    for frame, ref in ((fa, result.a), (fb, result.b)):
        if key not in frame.columns:
            raise UsageArgumentError(
                f"Key column {key!r} is not in {ref}; "
                f"columns: {', '.join(map(str, frame.columns))}.",
                parameter="key", column=key)
        if frame[key].duplicated().any():
            raise UsageArgumentError(f"Key column {key!r} has duplicate values in {ref}.",
                                     parameter="key", column=key)
    ka, kb = pd.Index(fa[key]), pd.Index(fb[key])
    added, removed = kb.difference(ka), ka.difference(kb)
    both = ka.intersection(kb)
    left = fa.set_index(key).loc[both, common]
    right = fb.set_index(key).loc[both, common]
    differs = pd.Series(False, index=both)
    for c in common:
        x, y = left[c], right[c]
        try:
            same = (x == y) | (x.isna() & y.isna())
            differs |= ~same.fillna(False).astype(bool).to_numpy()
        except (TypeError, ValueError):  # incomparable types: compare as text
            differs |= (x.astype(str) != y.astype(str)).to_numpy()
    changed = both[differs.to_numpy()]
    result.key = key
    result.added_rows, result.removed_rows, result.changed_rows = (
        len(added), len(removed), len(changed))
    result.examples = {"added": list(added[:EXAMPLES]), "removed": list(removed[:EXAMPLES]),
                       "changed": list(changed[:EXAMPLES])}
