"""The project's own exception types.

Every edge (CLI, HTTP API, Streamlit) turns these into a clear message; anything
else escaping the package is a bug.
"""

from __future__ import annotations


class AssistantError(Exception):
    """Base class: a failure with a message meant for the person using the tool."""

    #: HTTP status the API maps this error to.
    http_status: int = 500
    #: Exit code the CLI uses for this error.
    exit_code: int = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}" if self.hint else self.message


class ConfigError(AssistantError):
    """A setting (environment variable or option) has an unusable value."""

    exit_code = 2


class InvalidQuestionError(AssistantError):
    """The question is empty, blank, too long or otherwise unusable."""

    http_status = 422
    exit_code = 2


class BulletinError(AssistantError):
    """A bulletin file cannot be read (empty, binary, not UTF-8, missing)."""

    http_status = 422
    exit_code = 2

    def __init__(self, path: str, reason: str, *, hint: str | None = None) -> None:
        super().__init__(f"{path}: {reason}", hint=hint)
        self.path = path
        self.reason = reason


class MissingPathError(AssistantError):
    """A path given to ingest does not exist."""

    http_status = 404
    exit_code = 2


class StoreError(AssistantError):
    """The vector store is missing, unreachable or inconsistent."""

    http_status = 503
    exit_code = 3


class StoreLockedError(StoreError):
    """Another process holds the embedded store."""


class StoreBusyError(StoreError):
    """Another writer is changing the shared store (or died doing so a moment ago)."""

    http_status = 409


class ModelMismatchError(StoreError):
    """The store was built with another embedding model."""

    http_status = 409


class SchemaVersionError(StoreError):
    """The store was written by an incompatible version of this project."""

    http_status = 409


class ModelError(AssistantError):
    """The embedding model cannot be found, verified or loaded."""

    exit_code = 4


class HistoryError(AssistantError):
    """The conversations file (data dir) cannot be read or written, or a conversation is unknown."""

    http_status = 503
    exit_code = 3
