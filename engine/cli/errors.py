"""The exit codes of `arrears`, the command line's own errors, and how a failure is reported.

Commands raise; `main` hands whatever leaves a command to `report_error`, which prints it on
stderr as ONE line, `arrears <command>: <message>` (a `PolicyError` as its located
problems, one `file:line:col: message` line each), and returns the exit code it means.
Data goes to stdout, these messages to stderr. `ARREARS_DEBUG=1` adds the traceback.
"""
from __future__ import annotations

import os
import sys
import textwrap
import traceback
from enum import IntEnum

from arrears.engine.domain.errors import ArrearsError, PolicyError, StoreError

DEBUG_ENV = "ARREARS_DEBUG"


class ExitCode(IntEnum):
    """What the exit status of an `arrears` command means (README.md, "The command line").

    - 0 `OK`: done, nothing wrong found.
    - 1 `PROBLEMS`: the command ran and found problems, or its work failed: an invalid
      policy, a failing policy test, a broken audit chain, rejected import or replay rows,
      a tick that failed.
    - 2 `CANNOT_START`: bad usage or arguments (argparse exits 2 too), an unreadable or
      unusable input file, bad configuration, plugins that cannot be loaded: fix the input.
    - 3 `DATABASE`: the database cannot be used (a `StoreError`: unreachable, locked,
      without the Arrears schema, read-only, full); for `arrears tick` also a tick skipped
      because another process holds the lease. Either way: nothing done, try again later.
    - 70 `INTERNAL`: an unexpected exception, a bug (EX_SOFTWARE of sysexits.h).
    - 130 `INTERRUPTED`: Ctrl-C (128 + SIGINT, as shells report it).

    A closed output pipe (`arrears … | head`) is not an error: 0.
    """

    OK = 0
    PROBLEMS = 1
    CANNOT_START = 2
    DATABASE = 3
    INTERNAL = 70
    INTERRUPTED = 130


# The table above as `--help` shows it; a command says what each code means for it (`exit_epilog`).
MEANINGS = {
    ExitCode.OK: "done, nothing wrong found",
    ExitCode.PROBLEMS: "ran and found problems, or the work failed",
    ExitCode.CANNOT_START: "could not start: bad arguments, input file or configuration, plugins",
    ExitCode.DATABASE: "the database cannot be used (unreachable, locked, no schema, read-only, full)",
    ExitCode.INTERNAL: "internal error, a bug ($ARREARS_DEBUG=1 shows the traceback)",
    ExitCode.INTERRUPTED: "interrupted (Ctrl-C)",
}


def exit_epilog(meanings: dict | None = None) -> str:
    """The exit statuses as `--help` ends with them: the shared `MEANINGS`, with a command's own
    wording (`meanings`, code -> text; None leaves a code out) in their place."""
    table = {**MEANINGS, **(meanings or {})}
    rows = [textwrap.fill(text, 79, initial_indent=f"  {int(code):<4} ", subsequent_indent=" " * 7)
            for code, text in table.items() if text is not None]
    return "exit status:\n" + "\n".join(rows)


class CommandError(ArrearsError):
    """A failure a command words itself, with the exit code it means (default 1: the work failed)."""

    exit_code = ExitCode.PROBLEMS

    def __init__(self, message: str, exit_code: int | None = None):
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = ExitCode(exit_code)


class UsageError(CommandError):
    """Bad usage that argparse cannot check (a file that is not there, options that contradict
    each other, a number out of range): exit 2, nothing was done."""

    exit_code = ExitCode.CANNOT_START


def exit_code_for(exc: BaseException) -> ExitCode:
    """The exit code an exception leaving a command means (see `ExitCode`)."""
    if isinstance(exc, KeyboardInterrupt):
        return ExitCode.INTERRUPTED
    if isinstance(exc, CommandError):
        return exc.exit_code
    if isinstance(exc, StoreError):
        return ExitCode.DATABASE
    if isinstance(exc, PolicyError):
        return ExitCode.PROBLEMS
    # Every other error of ours is about what the command was given (input files, configuration,
    # plugins, values); an OSError here is a file that could not be read or written.
    if isinstance(exc, (ArrearsError, OSError)):
        return ExitCode.CANNOT_START
    return ExitCode.INTERNAL


def restate(exc: BaseException, message: str) -> CommandError:
    """A `CommandError` saying `message` (which usually quotes `exc`) with the exit code of `exc`."""
    return CommandError(message, exit_code_for(exc))


def message_lines(exc: BaseException) -> list[str]:
    """What to tell the user about `exc`, without the `arrears <command>: ` prefix: its notes
    (headlines added with `add_note`), then its message, one entry per line."""
    notes = list(getattr(exc, "__notes__", ()))
    code = exit_code_for(exc)
    if code is ExitCode.INTERNAL:
        first = (str(exc).splitlines() or [""])[0]
        return [f"internal error: {type(exc).__name__}: {first}; please report it"]
    if code is ExitCode.INTERRUPTED:
        return ["interrupted"]
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        return notes + [f"{exc.filename}: {exc.strerror}"]
    return notes + (str(exc).splitlines() or [type(exc).__name__])


def report_error(command: str | None, exc: BaseException, stream=None) -> ExitCode:
    """Print `exc` on `stream` (stderr) as `arrears <command>: <message>` lines, a `PolicyError`'s
    problems as they are (`file:line:col: message`, the form editors jump to); return its exit code.
    The traceback is printed first only when $ARREARS_DEBUG is set (to anything but 0)."""
    stream = sys.stderr if stream is None else stream
    if os.environ.get(DEBUG_ENV, "") not in ("", "0"):
        traceback.print_exception(exc, file=stream)
    prefix = f"arrears {command}: " if command else "arrears: "
    lines = [prefix + line for line in message_lines(exc)]
    if isinstance(exc, PolicyError) and exc.problems:
        lines = [prefix + note for note in getattr(exc, "__notes__", ())] + [str(p) for p in exc.problems]
    try:
        stream.write("".join(line + "\n" for line in lines))
        stream.flush()
    except (OSError, ValueError):      # stderr is closed too: the exit code is all that is left
        pass
    return exit_code_for(exc)
