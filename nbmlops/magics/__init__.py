"""The ``%mlops`` line magic and ``%%mlops`` cell magic: a thin dispatcher.

``%mlops <subcommand> [args]`` looks the subcommand up in :data:`SUBCOMMANDS`,
imports its handler lazily (so ``%load_ext nbmlops`` stays fast), parses the
rest of the line with the handler's ``@magic_arguments`` spec and calls it.
Handlers live in one module per area (``magics/tracking.py``,
``magics/snapshot.py`` ...) and only translate arguments into one call of the
plain API.

Errors raised by nbmlops for user mistakes (:class:`~nbmlops.exceptions.NbmlopsError`)
become a one-line ``UsageError``. Exceptions of the user's own cell code are
re-raised unchanged.
"""

from __future__ import annotations

import importlib
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class
from traitlets import Bool, MetaHasTraits, Unicode

from nbmlops.config import KEYS, NbmlopsConfig, help_text, is_bool_key, load_config
from nbmlops.exceptions import NbmlopsError


@dataclass(frozen=True)
class Subcommand:
    """One ``%mlops`` subcommand: where its handler lives and what it does."""

    target: str  # "module:function"
    summary: str
    cell: bool = False  # True: only as ``%%mlops <name>``

    def load(self) -> Callable[..., Any]:
        """Import and return the handler."""
        module, _, attr = self.target.partition(":")
        return getattr(importlib.import_module(module), attr)


#: every subcommand; areas add theirs here, the handler in magics/<area>.py
SUBCOMMANDS: dict[str, Subcommand] = {
    "init": Subcommand("nbmlops.magics.tracking:init", "set experiment / tracking URI"),
    "run": Subcommand("nbmlops.magics.tracking:run", "run the cell as an MLflow run", cell=True),
    "runs": Subcommand("nbmlops.magics.tracking:runs", "table + chart of recent runs"),
    "ui": Subcommand("nbmlops.magics.tracking:ui", "start the MLflow UI, show the link"),
    "sync": Subcommand("nbmlops.magics.tracking:sync", "upload runs spooled while offline"),
    "snapshot": Subcommand("nbmlops.magics.snapshot:snapshot", "freeze a DataFrame into DVC"),
    "snapshots": Subcommand("nbmlops.magics.snapshot:snapshots", "list snapshot versions"),
    "load": Subcommand("nbmlops.magics.snapshot:load", "load a snapshot: name[@version]"),
    "diff": Subcommand("nbmlops.magics.snapshot:diff", "compare two snapshot versions"),
    "parameters": Subcommand("nbmlops.magics.pipeline:parameters", "tag the parameters cell"),
    "export": Subcommand("nbmlops.magics.pipeline:export", "write params.yaml + dvc.yaml stage"),
    "drift": Subcommand("nbmlops.magics.drift:drift", "drift panel: reference vs current"),
    "validate": Subcommand("nbmlops.magics.registry:validate", "candidate vs champion, slices+CIs"),
    "models": Subcommand("nbmlops.magics.registry:models", "models / one model's versions"),
    "approvals": Subcommand("nbmlops.magics.loop:approvals", "pending sign-offs: approve / reject"),
}


def _usage() -> str:
    width = max(map(len, SUBCOMMANDS))
    rows = "\n".join(
        f"  {('%%' if s.cell else '%') + 'mlops'} {name:<{width}}  {s.summary}"
        for name, s in SUBCOMMANDS.items()
    )
    return (
        "nbmlops magics: the MLOps loop inside the notebook.\n\n"
        "Usage: %mlops SUBCOMMAND [options]   or   %%mlops run [options] (cell)\n\n"
        f"Subcommands:\n{rows}\n\n"
        "Help for one subcommand: %mlops help SUBCOMMAND  (or %mlops SUBCOMMAND --help)\n"
        "Configuration: %config MLOps.<key> = value, or [tool.nbmlops] in pyproject.toml.\n"
        "Docs: docs/magics.md"
    )


def _config_traits() -> dict[str, Any]:
    """One configurable trait per setting of :class:`~nbmlops.config.NbmlopsConfig`.

    Generated from the dataclass (names, types, help), so the magics can never
    offer a setting the rest of the package does not read, or miss one.
    """
    traits: dict[str, Any] = {}
    for key in KEYS:
        kind = Bool if is_bool_key(key) else Unicode
        traits[key] = kind(None, allow_none=True, help=help_text(key)).tag(config=True)
    return traits


class _MLOpsBase(Magics):
    """Magics of nbmlops; configurable with ``%config MLOps.<key> = value``.

    Every setting of :class:`nbmlops.config.NbmlopsConfig` is a trait. Traits
    left at ``None`` fall back to ``nbmlops.init``, environment variables,
    ``[tool.nbmlops]`` and defaults (see :func:`nbmlops.config.load_config`).
    """

    def __init__(self, shell: Any = None, **kwargs: Any) -> None:
        super().__init__(shell, **kwargs)
        if shell is not None and self not in shell.configurables:
            shell.configurables.append(self)
        #: per-area session state (e.g. ``state["tracking"]``), owned by the handlers
        self.state: dict[str, Any] = {}

    def _load_config(self, cfg: Any, section_names: Any = None, traits: Any = None) -> None:
        """Refuse misspelled ``%config MLOps.<key>`` instead of only warning."""
        section = cfg.get(type(self).__name__, {}) if hasattr(cfg, "get") else {}
        valid = set(self.trait_names(config=True))
        for key in section:
            if key not in valid:
                raise UsageError(
                    f"MLOps has no setting {key!r}. Valid settings: {', '.join(sorted(valid))}."
                )
        super()._load_config(cfg, section_names=section_names, traits=traits)

    def config_overrides(self) -> dict[str, Any]:
        """The settings the user set on this object (``None`` = not set)."""
        return {
            name: getattr(self, name)
            for name in self.trait_names(config=True)
            if getattr(self, name) is not None
        }

    def resolved_config(self, **overrides: Any) -> NbmlopsConfig:
        """Resolve the configuration for the current working directory."""
        return load_config(**{**self.config_overrides(), **overrides})

    @line_cell_magic
    def mlops(self, line: str, cell: str | None = None) -> Any:
        name, _, rest = line.strip().partition(" ")
        if not name or name in {"help", "-h", "--help"}:
            return self._help(rest.strip())
        sub = SUBCOMMANDS.get(name)
        if sub is None:
            raise UsageError(
                f"Unknown %mlops subcommand {name!r}. Choose one of: {', '.join(SUBCOMMANDS)}."
            )
        handler = _load(name, sub)
        rest = strip_comment(rest)
        if _wants_help(rest):
            return self._help(name)
        if sub.cell and cell is None:
            raise UsageError(f"'{name}' is a cell magic: put '%%mlops {name} ...' atop a cell.")
        self.state["line"] = line.strip()  # as the user wrote it (the run note shows it)
        args = handler.parser.parse_argstring(rest) if hasattr(handler, "parser") else rest
        try:
            return handler(self, args, cell) if sub.cell else handler(self, args)
        except NbmlopsError as exc:  # a user's own cell error never gets here: IPython shows it
            raise UsageError(str(exc)) from None

    mlops.__doc__ = _usage()

    def _help(self, name: str) -> None:
        if not name:
            print(_usage())
            return
        sub = SUBCOMMANDS.get(name)
        if sub is None:
            choices = ", ".join(SUBCOMMANDS)
            raise UsageError(f"No %mlops subcommand {name!r}. Choose one of: {choices}.")
        handler = _load(name, sub)
        parser = getattr(handler, "parser", None)
        print(parser.format_help() if parser else (handler.__doc__ or sub.summary))


#: the magics class: :class:`_MLOpsBase` plus one trait per config setting
# (built with traitlets' metaclass, which turns the trait objects into descriptors)
MLOps: type[_MLOpsBase] = magics_class(MetaHasTraits("MLOps", (_MLOpsBase,), {
    "__doc__": _MLOpsBase.__doc__, "__module__": __name__, **_config_traits()}))


def _load(name: str, sub: Subcommand) -> Callable[..., Any]:
    """The handler, its parser named as the user types it (IPython's usage adds one ``%``)."""
    handler = sub.load()
    parser = getattr(handler, "parser", None)
    if parser is not None:
        parser.prog = f"{'%' if sub.cell else ''}mlops {name}"
    return handler


def strip_comment(rest: str) -> str:
    """``rest`` without a trailing ``# comment`` (a ``#`` after a blank, outside quotes).

    IPython hands a line magic its whole line, comment included; a shell
    would drop it, and so do we (``--tags issue=#12`` keeps its ``#``).
    """
    quote = ""
    for i, ch in enumerate(rest):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or rest[i - 1].isspace()):
            return rest[:i].rstrip()
    return rest


def _wants_help(rest: str) -> bool:
    try:
        words = shlex.split(rest)
    except ValueError:
        return False
    return "-h" in words or "--help" in words


def load_ipython_extension(ipython: Any) -> None:
    """Register :class:`MLOps` and run each area's on-load hook."""
    magics = MLOps(ipython)
    ipython.register_magics(magics)
    for hook in ON_LOAD:
        module, _, attr = hook.partition(":")
        getattr(importlib.import_module(module), attr)(magics)


def unload_ipython_extension(ipython: Any) -> None:
    """Drop our configurable; IPython has no API to unregister magics."""
    ipython.configurables[:] = [c for c in ipython.configurables if not isinstance(c, MLOps)]


#: ``"module:function"`` called with the MLOps instance when the extension loads
#: (e.g. the tracking area marks runs of dead kernels KILLED). Keep them cheap.
ON_LOAD: list[str] = ["nbmlops.magics.tracking:on_load"]
