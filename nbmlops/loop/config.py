"""The loop file: ``mlops.yaml`` (or ``[tool.nbmlops.loop]`` in ``pyproject.toml``).

>>> cfg = load_loop_config()                                      # doctest: +SKIP
>>> cfg.model, cfg.monitor.window, cfg.promote.alias              # doctest: +SKIP
('fraud', '1D', 'champion')

Unknown keys are an error naming them (a typo never silently disables a step).
"""

from __future__ import annotations

import os
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any

from nbmlops.exceptions import NbmlopsError

LOOP_FILE = "mlops.yaml"
TRIGGERS = ("drift", "performance")


class LoopError(NbmlopsError):
    """Bad loop input: an unknown key, a missing section, a notebook or alias that is unusable."""


@dataclass(frozen=True)
class Monitor:
    """Where the service's recent traffic is and what it is compared with."""

    log: str
    labels: str | None = None
    reference: str = ""
    window: str = "1D"
    id_column: str | None = None
    time_column: str = "timestamp"


@dataclass(frozen=True)
class Trigger:
    """What starts a retraining: ``drift`` and/or ``performance`` (a degraded verdict)."""

    on: tuple[str, ...] = TRIGGERS
    config: str | None = None


@dataclass(frozen=True)
class Train:
    """The training notebook, its data window and fixed parameters."""

    notebook: str
    data_window: str = "30D"
    params: dict[str, Any] = field(default_factory=dict)
    data_parameter: str = "data"


@dataclass(frozen=True)
class Validate:
    """The validation gate on the holdout window the training data did not see."""

    target: str
    holdout_window: str = "7D"
    slices: tuple[str, ...] = ()
    rules: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Promote:
    """The alias the loop moves and whether a human signs off first."""

    alias: str = "champion"
    require_approval: bool = True


@dataclass(frozen=True)
class LoopConfig:
    """One declared loop (see module docstring)."""

    model: str
    monitor: Monitor
    train: Train
    validate: Validate
    trigger: Trigger = field(default_factory=Trigger)
    promote: Promote = field(default_factory=Promote)
    alert: str | None = None
    source: str = ""

    @property
    def snapshot_name(self) -> str:
        """The DVC snapshot the training rows go to (``<model>-train``)."""
        return f"{self.model}-train"


SECTIONS: dict[str, type] = {"monitor": Monitor, "trigger": Trigger, "train": Train,
                             "validate": Validate, "promote": Promote}


def _section(name: str, cls: type, raw: Any, where: str) -> Any:
    if not isinstance(raw, dict):
        raise LoopError(f"{where}: '{name}' must be a mapping, got {type(raw).__name__}.",
                        parameter=name)
    # YAML 1.1 reads a bare ``on:`` key as True (the issue's own example writes it so)
    raw = {("on" if k is True else str(k)): v for k, v in raw.items()}
    known = [f.name for f in fields(cls)]
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise LoopError(f"{where}: unknown key(s) in '{name}': {', '.join(unknown)} "
                        f"(known: {', '.join(known)}).", parameter=f"{name}.{unknown[0]}")
    required = [f.name for f in fields(cls)
                if f.default is MISSING and f.default_factory is MISSING]
    missing = [k for k in required if k not in raw]
    if missing:
        raise LoopError(f"{where}: '{name}' needs {', '.join(missing)}.",
                        parameter=f"{name}.{missing[0]}")
    values = dict(raw)
    for key in ("on", "slices"):
        if key in values:
            v = values[key]
            values[key] = tuple([v] if isinstance(v, str) else (v or []))
    return cls(**values)



def from_dict(raw: dict[str, Any], where: str = "loop config") -> LoopConfig:
    """Build a :class:`LoopConfig` from a parsed mapping; unknown keys are named."""
    if not isinstance(raw, dict):
        raise LoopError(f"{where}: expected a mapping at the top level.")
    top = {"model", "alert", *SECTIONS}
    unknown = sorted(str(k) for k in set(raw) - top)
    if unknown:
        raise LoopError(f"{where}: unknown key(s): {', '.join(unknown)} "
                        f"(known: {', '.join(sorted(top))}).", parameter=unknown[0])
    for key in ("model", "monitor", "train", "validate"):
        if key not in raw:
            raise LoopError(f"{where}: missing '{key}'.", parameter=key)
    parts = {name: _section(name, cls, raw[name], where)
             for name, cls in SECTIONS.items() if name in raw}
    trig = parts.get("trigger")
    if trig is not None:
        bad = [t for t in trig.on if t not in TRIGGERS]
        if bad or not trig.on:
            raise LoopError(f"{where}: trigger.on must list drift and/or performance, got "
                            f"{list(trig.on)}.", parameter="trigger.on")
    alert = raw.get("alert")
    if alert is not None and not (isinstance(alert, str) and alert.startswith("webhook:")):
        raise LoopError(f"{where}: alert must be 'webhook:URL', got {alert!r}.",
                        parameter="alert")
    return LoopConfig(model=str(raw["model"]), alert=alert, source=where, **parts)


def load_loop_config(path: str | os.PathLike[str] | None = None) -> LoopConfig:
    """Read the loop file: ``path``, else ``mlops.yaml`` in cwd, else pyproject's table.

    Raises
    ------
    LoopError
        No loop file, unknown keys (named), a missing section (exit code 2).
    """
    import yaml

    if path is not None or Path(LOOP_FILE).exists():
        p = Path(path or LOOP_FILE)
        if not p.exists():
            raise LoopError(f"no loop file {p}.", path=str(p))
        try:
            raw = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise LoopError(f"{p}: not valid YAML: {exc}", path=str(p)) from None
        return from_dict(raw, str(p))
    py = Path("pyproject.toml")
    if py.exists():
        import tomllib

        table = tomllib.loads(py.read_text(encoding="utf-8"))
        raw = table.get("tool", {}).get("nbmlops", {}).get("loop")
        if raw is not None:
            return from_dict(raw, "pyproject.toml [tool.nbmlops.loop]")
    raise LoopError(f"no loop declared: write {LOOP_FILE} (model, monitor, train, validate) "
                    "or [tool.nbmlops.loop] in pyproject.toml.")
