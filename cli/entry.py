"""The `bp` script's entry point: Ctrl-C is quiet from the first line bp runs.

Importing Typer, rich and NumPy takes a noticeable fraction of a second; a
Ctrl-C meanwhile exits 130 with one line instead of a KeyboardInterrupt
traceback. This module imports nothing heavy before the handler is in place.
"""

from __future__ import annotations

import os
import signal

EXIT_INTERRUPTED = 130
# Set once an `error:` line is out: a Ctrl-C after it exits 130 without a second line.
reported = False


def interrupted_at_startup(signum: int, frame: object) -> None:
    """SIGINT outside a running command (importing, parsing options): exit 130, one line."""
    if not reported:
        os.write(2, b"error: interrupted\n")
    os._exit(EXIT_INTERRUPTED)


if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # not when ignored (nohup)
    signal.signal(signal.SIGINT, interrupted_at_startup)

# pydantic looks for plugins (every installed distribution's entry points) when it
# builds its first validator: a few milliseconds on every start, for plugins that
# would only observe bp's own config validation. Set the variable to a list of
# plugin names (or to "") to let pydantic load plugins anyway.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")


def main() -> None:
    from cli.app import main as run

    run()
