"""Read params, metrics, data and seeds off a cell and its namespace.

Params are the cell's top-level assignments of *literals* (found with
:mod:`ast`, so ``C = 0.5`` is a param and ``auc = roc_auc_score(...)`` is
not). Metrics are the numeric scalars the cell assigns at top level that are
not params. DataFrames are the names the cell *reads* that hold a pandas
DataFrame.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import io
import numbers
import pickle
import sys
from dataclasses import dataclass, field
from typing import Any

from nbmlops.tracking.secrets import is_secret_name, redact


@dataclass
class CellAnalysis:
    """What the cell's syntax says (before it runs)."""

    literals: dict[str, Any] = field(default_factory=dict)  # name -> literal value
    assigned: list[str] = field(default_factory=list)  # top-level targets, in order
    loaded: list[str] = field(default_factory=list)  # names read anywhere in the cell


def analyse(source: str) -> CellAnalysis:
    """Parse ``source`` (plain Python) and find literals, assignments, reads.

    A cell that does not parse gives an empty analysis: running it raises the
    ``SyntaxError`` the user expects.
    """
    result = CellAnalysis()
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return result
    for node in tree.body:
        targets: list[ast.expr] = []
        value: ast.expr | None = None
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            targets, value = [node.target], node.value
        for target in targets:
            for name in _names(target):
                if name not in result.assigned:
                    result.assigned.append(name)
                result.literals.pop(name, None)
            if (
                isinstance(node, (ast.Assign, ast.AnnAssign))
                and isinstance(target, ast.Name)
                and value is not None
            ):
                with contextlib.suppress(ValueError, TypeError, SyntaxError, MemoryError,
                                         RecursionError):
                    result.literals[target.id] = ast.literal_eval(value)
    seen = set()
    for sub in ast.walk(tree):
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Load) and sub.id not in seen:
            seen.add(sub.id)
            result.loaded.append(sub.id)
    return result


def _names(target: ast.expr) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [n for elt in target.elts for n in _names(elt)]
    if isinstance(target, ast.Starred):
        return _names(target.value)
    return []


def param_value(value: Any) -> str:
    """A param's string form (MLflow keeps params as strings, ≤6000 chars)."""
    return redact(repr(value) if isinstance(value, str) else str(value))[:6000]


def literal_params(analysis: CellAnalysis, redact_secrets: bool = True) -> dict[str, str]:
    """The cell's literal assignments as params (credential-like names dropped)."""
    return {
        name: param_value(value)
        for name, value in analysis.literals.items()
        if not (redact_secrets and is_secret_name(name)) and not name.startswith("_")
    }


def is_metric_value(value: Any) -> bool:
    """Python/numpy ints and floats (0-d arrays too), not bools."""
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return False
    if isinstance(value, numbers.Real):
        return True
    shape = getattr(value, "shape", None)
    dtype = getattr(value, "dtype", None)
    return shape == () and dtype is not None and getattr(dtype, "kind", "") in "iuf"


def scalar_metrics(
    analysis: CellAnalysis,
    namespace: dict[str, Any],
    only: list[str] | None = None,
    exclude: set[str] | None = None,
    redact_secrets: bool = True,
) -> dict[str, float]:
    """Numeric scalars the cell assigned at top level that are not params."""
    exclude = exclude or set()
    names = only if only is not None else analysis.assigned
    out: dict[str, float] = {}
    for name in names:
        if name in exclude or name.startswith("_") or name not in namespace:
            continue
        if only is None and name in analysis.literals:
            continue
        if redact_secrets and is_secret_name(name):
            continue
        value = namespace[name]
        if is_metric_value(value):
            out[name] = float(value)
    return out


def frames_read(analysis: CellAnalysis, namespace: dict[str, Any]) -> dict[str, Any]:
    """Names the cell reads that hold a pandas DataFrame."""
    pd = sys.modules.get("pandas")
    if pd is None:
        return {}
    return {
        name: namespace[name]
        for name in analysis.loaded
        if isinstance(namespace.get(name), pd.DataFrame)
    }


# --------------------------------------------------------------------------- seeds
def apply_seed(seed: int) -> list[str]:
    """Seed ``random``, ``numpy`` and ``torch`` (when imported); return what was seeded."""
    import random

    random.seed(seed)
    done = ["random"]
    np = sys.modules.get("numpy")
    if np is not None:
        np.random.seed(seed % 2**32)
        done.append("numpy")
    torch = sys.modules.get("torch")
    if torch is not None and hasattr(torch, "manual_seed"):
        torch.manual_seed(seed)
        done.append("torch")
    return done


def rng_digest() -> str:
    """Digest of the random states at cell start (random, numpy, torch)."""
    import random

    h = hashlib.blake2b(digest_size=8)
    h.update(pickle.dumps(random.getstate()))
    np = sys.modules.get("numpy")
    if np is not None:
        state = np.random.get_state()
        h.update(state[1].tobytes())
        h.update(str(state[2:]).encode())
    torch = sys.modules.get("torch")
    if torch is not None and hasattr(torch, "get_rng_state"):
        h.update(bytes(torch.get_rng_state().numpy()))
    return h.hexdigest()


# --------------------------------------------------------------------------- output
class Tee(io.TextIOBase):
    """Write to the real stream (the user still sees it) and keep a copy."""

    def __init__(self, stream: Any, limit: int = 1_000_000) -> None:
        self._stream = stream
        self._parts: list[str] = []
        self._size = 0
        self._limit = limit

    def write(self, text: str) -> int:  # noqa: D102
        if self._size < self._limit:
            self._parts.append(text)
            self._size += len(text)
        return self._stream.write(text)

    def flush(self) -> None:  # noqa: D102
        self._stream.flush()

    def getvalue(self) -> str:
        """Everything written so far (truncated at ``limit`` characters)."""
        return "".join(self._parts)[: self._limit]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)
