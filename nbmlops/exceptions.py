"""One exception hierarchy for nbmlops.

Every error nbmlops raises on purpose derives from :class:`NbmlopsError` and
carries the context a user needs (the column, cell, parameter, run or path
that is wrong). Errors survive pickling, so they cross process boundaries
(sweeps, papermill kernels) intact. A user's *own* exception is never wrapped:
it is recorded and re-raised unchanged.
"""

from __future__ import annotations

from typing import Any


class NbmlopsError(Exception):
    """Base class of all nbmlops errors.

    Parameters
    ----------
    message
        One line saying what is wrong and, where possible, how to fix it.
    **context
        Named context (``column=``, ``parameter=``, ``run_id=``, ``path=``...),
        kept as attributes and in :attr:`context`.
    """

    #: process exit code the CLI uses for this kind of error
    exit_code: int = 2

    def __init__(self, message: str, **context: Any) -> None:
        super().__init__(message)
        self.message = message
        self.context = context
        for key, value in context.items():
            setattr(self, key, value)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.message, self.context))

    def __str__(self) -> str:
        return self.message


def _rebuild(cls: type[NbmlopsError], message: str, context: dict[str, Any]) -> NbmlopsError:
    return cls(message, **context)


class ConfigError(NbmlopsError):
    """A configuration key or value is wrong (names the valid keys)."""


class UsageArgumentError(NbmlopsError):
    """Bad arguments to a magic, CLI command or API call."""


class TrackingError(NbmlopsError):
    """MLflow tracking failed in a way the user must act on."""


class SnapshotError(NbmlopsError):
    """A DataFrame cannot be snapshotted or a version cannot be loaded."""


class UnsupportedDataError(SnapshotError):
    """Content Parquet cannot hold faithfully (names the column)."""


class PipelineError(NbmlopsError):
    """A notebook pipeline (parameters, run, sweep, export) failed."""


class ParameterError(PipelineError):
    """A notebook parameter is unknown, unsafe or of the wrong type."""


class NotebookExecutionError(PipelineError):
    """The executed notebook raised; names the cell and the exception."""

    exit_code = 1


class KernelDiedError(PipelineError):
    """The kernel died or timed out."""

    exit_code = 3


class DriftError(NbmlopsError):
    """Drift inputs or configuration are unusable as a whole."""


class MissingDependencyError(NbmlopsError):
    """An optional package is needed; says what to install."""
