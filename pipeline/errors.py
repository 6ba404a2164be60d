"""The project's errors: each carries its exit code and a one-line message, which is all `ecom` prints.

`EcomError` is the base. The generator keeps its own `ConfigError` (it has no dependency on the pipeline); the
pipeline's bad-input errors subclass it, so `except ConfigError` keeps catching every bad setting, and the CLI
wraps a bare generator `ConfigError` with `as_ecom_error`.
"""

from __future__ import annotations

from generator.config import ConfigError

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for Ctrl-C


class EcomError(Exception):
    """An error the user can act on; `str(error)` is one line."""

    exit_code = EXIT_FAILED

    def line(self) -> str:
        """What `ecom` prints: one line."""
        return "ecom: " + " ".join(str(self).split())


class BadInput(EcomError, ConfigError):
    """A setting, flag or the state of the data dir is wrong; nothing was written (exit 2)."""

    exit_code = EXIT_USAGE


class PipelineFailed(EcomError):
    """The pipeline ran and failed, or refused a step whose inputs are not ready (exit 1)."""

    exit_code = EXIT_FAILED


class Interrupted(EcomError):
    """Stopped by Ctrl-C (SIGINT) or SIGTERM; what completed is kept (exit 130)."""

    exit_code = EXIT_INTERRUPTED


class UsageError(BadInput):
    """Bad command-line arguments: raised instead of argparse's two-line usage dump."""

    def line(self) -> str:
        return str(self)  # already starts with the program name


class SettingsError(BadInput):
    """A setting is invalid; the message names it and what is allowed."""


class SparkUnavailable(BadInput):
    """pyspark, dbt-spark or Java is missing: the `spark` engine cannot run here."""


class BiError(BadInput):
    """PostgreSQL serving cannot go ahead; the message names the reason in one line."""


class PublishRefused(PipelineFailed):
    """The build is not in a state that may be published."""


class BuildBusy(PipelineFailed):
    """Another process holds the build lock and the caller asked not to wait."""


class GenerationInProgress(PipelineFailed):
    """A day of the lake is still being generated: a build must not read it yet (the refresh DAG skips)."""


class BuildInterrupted(Interrupted):
    """The build stopped before dbt finished (Ctrl-C, SIGTERM); build.json records it as `interrupted`."""


def as_ecom_error(exc: BaseException) -> EcomError | None:
    """The project's error for `exc`, or None when it is not one the user can act on (a bug: let it raise)."""
    if isinstance(exc, EcomError):
        return exc
    if isinstance(exc, ConfigError):  # the generator's bad input, and errors that still subclass it
        return BadInput(str(exc))
    if isinstance(exc, KeyboardInterrupt):
        return Interrupted(
            "interrupted; what completed is kept (whole days, a passing build), a re-run finishes the rest"
        )
    return None
