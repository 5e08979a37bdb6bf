"""Errors are reported once, at the edge: one line on stderr and SPEC §6's exit code."""

from __future__ import annotations

import contextlib
import functools
import gc
import signal
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import typer

from cli.entry import interrupted_at_startup

F = TypeVar("F", bound=Callable[..., Any])

EXIT_FAILED = 1  # the run completed but failed what was asked
EXIT_USAGE = 2  # usage, config or data error
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143  # 128 + SIGTERM, as a shell reports a process killed by it


class Terminated(KeyboardInterrupt):
    """SIGTERM (CI cancelling a job, `timeout`): handled exactly like Ctrl-C, exit 143."""


SIGNALLED: list[int] = []  # SIGTERM seen: Click turns an interrupt it catches into exit 130


def _raise_terminated(signum: int, frame: Any) -> None:
    SIGNALLED.append(signum)
    raise Terminated


def handle_sigterm() -> None:
    """Turn SIGTERM into `Terminated` so a run saves and exits like on Ctrl-C."""
    import contextlib
    import signal

    # Not the main thread (an embedding program): leave its signals alone.
    with contextlib.suppress(ValueError):
        signal.signal(signal.SIGTERM, _raise_terminated)


def interrupted_exit(error: KeyboardInterrupt) -> tuple[str, int]:
    """("interrupted", 130) for Ctrl-C, ("terminated", 143) for SIGTERM."""
    if isinstance(error, Terminated):
        return "terminated", EXIT_TERMINATED
    return "interrupted", EXIT_INTERRUPTED


def fail(message: str, code: int = EXIT_USAGE) -> typer.Exit:
    """Print ``error: message`` on stderr; return the Exit to raise."""
    print_error(message)
    return typer.Exit(code)


def print_error(message: str, prefix: str = "error") -> None:
    from cli import entry
    from cli.console import printable

    if prefix == "error":
        if message in ("interrupted", "terminated") and entry.reported:
            return  # the error already reported is the one line
        entry.reported = True
    try:
        # One line, always: a newline from a --set value or a file stays visible as \n.
        line = printable(message).replace("\n", "\\n")
        sys.stderr.write(f"{prefix}: {line}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass  # stderr is full or closed: the exit code is all that is left


def warn(message: str) -> None:
    print_error(message, prefix="warning")


def usage_error_types() -> tuple[type[Exception], type[Exception]]:
    """Click's UsageError and ClickException (vendored by recent Typer, else click)."""
    try:
        from typer._click import exceptions
    except ImportError:  # Typer before it vendored Click
        from click import exceptions  # type: ignore[no-redef]
    return exceptions.UsageError, exceptions.ClickException


def usage_error_line(error: Any) -> str:
    """``bp train: invalid value for '--epochs': ... (see bp train --help)``, on one line."""
    message = " ".join(error.format_message().split())
    message = message[:1].lower() + message[1:] if message[:2] != message[:2].upper() else message
    ctx = getattr(error, "ctx", None)
    where = ctx.command_path if ctx is not None else "bp"
    return f"{where}: {message.rstrip('.')} (see {where} --help)"


def reports_errors(command: F) -> F:
    """Wrap a command: the core's BpError becomes one stderr line and its exit code.

    So is an OSError about a named file. Anything else is a bug in bp and keeps
    its traceback.
    """

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from backprop_core.errors import BpError
        from cli import entry
        from cli.streams import OutputError, ReaderGoneError

        entry.reported = False  # per command (the test runner runs many in one process)
        entry.collect_from_here()  # the `bp` script's start-up is over
        try:
            with warnings.catch_warnings(), interruptible():
                # Overflow on the way to inf/NaN is detected and reported by bp
                # itself (divergence, non-finite values); numpy's RuntimeWarnings
                # would only repeat it on stderr with source paths.
                warnings.simplefilter("ignore", RuntimeWarning)
                return command(*args, **kwargs)
        except BpError as e:
            print_error(str(e))
            raise typer.Exit(e.exit_code) from None
        except MemoryError:
            print_error("out of memory: the network or the data is too large for this machine")
            raise typer.Exit(EXIT_USAGE) from None
        except KeyboardInterrupt as e:
            word, code = interrupted_exit(e)
            print_error(word)
            raise typer.Exit(code) from None
        except OutputError as e:
            print_error(str(e))
            raise typer.Exit(e.exit_code) from None
        except ReaderGoneError:
            # `bp ... | head`: the reader went away; nothing more to say.
            raise typer.Exit(0) from None
        except RuntimeError as e:
            # Python 3.11 wraps an exception raised while a class is being made
            # (`__set_name__`) in a RuntimeError: a Ctrl-C that lands while a
            # command imports rich, say. It is still the user's Ctrl-C.
            if not isinstance(e.__cause__, KeyboardInterrupt):
                raise
            word, code = interrupted_exit(e.__cause__)
            print_error(word)
            raise typer.Exit(code) from None
        except OSError as e:
            if e.filename is None:
                raise  # not about a file the user named: a bug, keep the traceback
            # A path the user gave that the system refuses (a name too long, a loop
            # of links, no permission) wherever bp first touched it.
            print_error(f"{e.filename}: {e.strerror or e}")
            raise typer.Exit(EXIT_USAGE) from None

    return wrapper  # type: ignore[return-value]


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector paused for a short step that makes many lasting objects.

    Importing and loading a config (modules, classes, the config validator) or
    drawing a report makes tens of thousands of objects that live until bp exits;
    the collector would walk them again and again (~30 ms of a `bp check`) to
    find almost no garbage; in the `bp` process they are then frozen out of its
    sight (`cli.entry.collect_from_here`). It runs as usual outside these blocks,
    so a long run (training) is collected as always.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            from cli import entry

            gc.enable()
            entry.collect_from_here()


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """While a command runs, Ctrl-C is a KeyboardInterrupt it can act on (train saves)."""
    quiet = (
        threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGINT) is interrupted_at_startup
    )
    if quiet:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        if quiet:
            signal.signal(signal.SIGINT, interrupted_at_startup)
