"""The `bp` script's entry point: Ctrl-C is quiet from the first line bp runs.

Importing Typer, rich and NumPy takes a noticeable fraction of a second; a
Ctrl-C meanwhile exits 130 with one line instead of a KeyboardInterrupt
traceback. This module imports nothing heavy before the handler is in place.

It also sets up what makes a whole `bp` process cheaper (docs/performance.md,
"What makes bp start fast"): pydantic's plugin search off, room on Python's
frame stack, and an exit that skips tearing the interpreter down.
"""

# Nothing runs before the handler below but two imports of modules built into the
# interpreter: no `from __future__ import annotations` (it imports a module at run
# time), and `_signal`, the C module, not `signal` (which imports enum first).
import _signal
import os

EXIT_INTERRUPTED = 130
# Set once an `error:` line is out: a Ctrl-C after it exits 130 without a second line.
reported = False
# True in the `bp` process itself (`prepare` ran), not in a program importing cli.
script = False


def interrupted_at_startup(signum: int, frame: object) -> None:
    """SIGINT outside a running command (importing, parsing options): exit 130, one line."""
    if not reported:
        os.write(2, b"error: interrupted\n")
    os._exit(EXIT_INTERRUPTED)


if _signal.getsignal(_signal.SIGINT) is _signal.default_int_handler:  # not when ignored (nohup)
    _signal.signal(_signal.SIGINT, interrupted_at_startup)

TYPE_CHECKING = False  # (typing is not imported at run time)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import NoReturn


# Python 3.11 to 3.13 keep frames on a stack of 16 KiB chunks and give a chunk
# back to the system as soon as the call that opened it returns: code that keeps
# calling across a chunk's end maps and unmaps memory on every call (CPython
# gh-142183, fixed in the latest 3.13 and 3.14 releases). Where bp's calls
# happened to sit on that boundary, ~3,500 such calls cost `bp check` over 10% of
# its CPU time, and any change to the code moves the boundary. So bp runs from
# one frame that declares a large value stack: its chunk is made 1 MiB, of which
# ~500 KiB (thousands of frames) is left for every call under it. The memory is
# only reserved; the pages are touched only as deep as calls go.
_ROOM = 65_600  # frame slots: 8 * (slots + 1000) just over 512 KiB, so a 1 MiB chunk


def _call(function: "Callable[[], None]") -> None:
    function()


def _call_with_room(function: "Callable[[], None]") -> None:
    """`function()`, called from a frame whose declared value stack is _ROOM slots."""
    import types

    code = _call.__code__
    types.FunctionType(code.replace(co_stacksize=code.co_stacksize + _ROOM), globals())(function)


def prepare() -> None:
    """Settings for the `bp` process only (not for a program that imports cli)."""
    import gc

    from backprop_core.run import threads
    from cli import plugin_loader

    # pydantic looks for plugins (every installed distribution's entry points) when
    # it builds its first validator: a few milliseconds on every start, for plugins
    # that would only observe bp's own config validation. Set the variable to a list
    # of plugin names (or to "") to let pydantic load plugins anyway.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    plugin_loader.install()  # and importlib.metadata is not imported to find none
    # NumPy's OpenBLAS starts with one thread, not one spinning thread per CPU;
    # training asks for the threads it uses (backprop_core/run/threads.py).
    threads.start_blas_single_threaded()
    # No cycle collection while Typer is imported and the options parsed: it would
    # walk the same long-lived objects again and again to find almost no garbage.
    # The command resumes it (cli.errors.reports_errors; see collector_paused).
    global script
    script = True
    gc.disable()


def collect_from_here() -> None:
    """In the `bp` process: the objects made so far live until bp exits, so the
    cycle collector leaves them alone (`gc.freeze`) and walks only what is made
    from here on; then it runs as usual. (Not in a program that imports cli.)"""
    if script:
        import gc

        gc.freeze()
        gc.enable()


def main() -> None:
    prepare()
    try:
        _call_with_room(_run)
    except SystemExit as e:  # how every run ends (cli.app.main), with its code
        exit_quickly(e.code)


def exit_quickly(code: object) -> "NoReturn":
    """Exit with `code` without tearing the interpreter down.

    After bp's work, Python would free every object of every module one by one
    before the process ends: ~50 ms of CPU for numpy, pydantic and typer alone,
    more than any other step of `bp check`. The operating system frees it all at
    once. What exiting must still do is done first: the functions registered
    with `atexit` run (they are how libraries finish their files) and the
    standard streams are flushed. A thread still running (none of bp's own)
    gets Python's usual exit, which waits for it.
    """
    import atexit
    import contextlib
    import sys
    import threading

    code = 0 if code is None else code
    others = [t for t in threading.enumerate() if t is not threading.main_thread()]
    if not isinstance(code, int) or any(not t.daemon for t in others):
        sys.exit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        # A failure here was reported already (cli.streams.finish), or has no one to tell.
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


def _run() -> None:
    from cli.app import main as run

    run()
