"""What each command imports on its way to its answer (start-up time is timed in benchmarks/).

Each case runs `bp` in a fresh interpreter and lists which of the heavy
modules ended up in sys.modules: a module that is never imported costs no time.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HEAVY = (
    "numpy",
    "numpy.random",
    "pydantic",
    "pydantic.main",
    "yaml",
    "backprop_core.engine",  # the core itself (its package and run/threads.py are tiny)
    "rich",
    "rich.console",
    "rich.table",
    "rich.markdown",
    "matplotlib",
    "typer.rich_utils",
    "typer._adapters",
    "importlib.metadata",
    "cli.commands.train",
)


def imported(*args: str) -> tuple[set[str], str]:
    """The HEAVY modules a `bp ARGS` process imported, and what it printed."""
    code = (
        "import sys\n"
        f"sys.argv = ['bp', *{list(args)!r}]\n"
        "import cli.entry, cli.app\n"
        "cli.entry.prepare()\n"  # as the `bp` script does (without its quick exit)
        "try:\n    cli.app.main()\nexcept SystemExit:\n    pass\n"
        f"print('MODULES=' + ','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False
    )
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith("MODULES="), done.stdout + done.stderr
    return set(filter(None, last.removeprefix("MODULES=").split(","))), done.stdout


def test_help_imports_only_typer() -> None:
    modules, out = imported("--help")
    assert "Commands:" in out and "gradcheck" in out
    # The help lines are read from the command modules' source: none is imported.
    assert modules == set(), modules


def test_help_lines_read_from_the_source_are_the_commands_help() -> None:
    # A HELP that is not a plain string literal would be imported, slower, not wrong.
    import cli.app

    for name in cli.app.COMMANDS:
        assert cli.app._HELP_LINE.search(
            (ROOT / "cli" / "commands" / f"{cli.app.COMMANDS[name]}.py").read_text()
        ), name
        assert cli.app.help_line(name) == cli.app._module(name).HELP


def test_a_commands_help_builds_that_command_only() -> None:
    modules, out = imported("check", "--help")
    assert "Usage: bp check" in out
    # Its option values are converted without pydantic (cli/coercion.py).
    assert modules == set(), modules


@pytest.mark.parametrize("command", [["check"], ["check", "--json"]])
def test_check_draws_nothing_with_rich(command: list[str]) -> None:
    modules, out = imported(*command)
    assert "ok" in out
    assert {"numpy", "pydantic.main", "yaml", "backprop_core.engine"} <= modules
    assert not modules & {"rich", "matplotlib", "typer.rich_utils", "cli.commands.train"}, modules
    # Typer's pydantic adapters for option values are not built (cli/coercion.py),
    # nor is importlib.metadata imported to find no pydantic plugins (cli/plugin_loader.py).
    assert not modules & {"typer._adapters", "importlib.metadata"}, modules


def test_train_draws_its_table_with_rich_but_no_plot_library() -> None:
    modules, out = imported("train", "--epochs", "3")
    assert "epoch" in out
    assert {"rich.console", "rich.table"} <= modules
    assert not modules & {"matplotlib", "rich.markdown", "typer.rich_utils", "typer._adapters"}
    assert "importlib.metadata" not in modules


@pytest.mark.parametrize("flag", ["--quiet", "--json"])
def test_train_without_output_to_draw_imports_no_rich(flag: str) -> None:
    modules, _ = imported("train", "--epochs", "3", flag)
    assert "backprop_core.engine" in modules
    assert not modules & {"rich", "matplotlib"}, modules


@pytest.mark.parametrize("command", [["check"], ["train", "--epochs", "3", "--quiet"]])
def test_the_reference_example_draws_nothing_random_so_imports_no_numpy_random(
    command: list[str],
) -> None:
    # Its weights are given and its one row is never shuffled: nothing is drawn.
    modules, _ = imported(*command)
    assert "numpy" in modules and "numpy.random" not in modules, modules


def test_a_run_that_draws_its_initial_weights_imports_numpy_random() -> None:
    modules, _ = imported("train", "configs/xor.yaml", "--epochs", "2", "--quiet")
    assert "numpy.random" in modules, modules


def test_pydantic_plugins_are_looked_for_when_not_disabled(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic.plugin import _loader as real

    from cli.plugin_loader import DeferredLoader

    stand_in = DeferredLoader()
    monkeypatch.setenv("PYDANTIC_DISABLE_PLUGINS", "__all__")
    assert stand_in.get_plugins() == () and stand_in._real is None
    monkeypatch.delenv("PYDANTIC_DISABLE_PLUGINS")
    assert list(stand_in.get_plugins()) == list(real.get_plugins())
    # Anything else is pydantic's own loader's.
    assert stand_in.PYDANTIC_ENTRY_POINT_GROUP == real.PYDANTIC_ENTRY_POINT_GROUP == "pydantic"
    assert stand_in._real is not None and stand_in._real.__name__ == real.__name__


def test_the_bp_script_exits_with_its_code_and_output_after_its_atexit_functions(
    tmp_path: Path,
) -> None:
    # The script's exit skips the interpreter's teardown (cli/entry.py), not what
    # exiting must do: atexit functions run, buffered output arrives, the code is kept.
    marker = tmp_path / "atexit.txt"
    code = (
        "import atexit, sys\n"
        f"atexit.register(lambda: open({str(marker)!r}, 'w').write('ran'))\n"
        "sys.argv = ['bp', *sys.argv[1:]]\n"
        "from cli.entry import main\n"
        "main()\n"
        "print('not reached')\n"
    )
    ok = subprocess.run([sys.executable, "-c", code, "check"], capture_output=True, text=True)
    assert (ok.returncode, ok.stdout) == (
        0,
        "built-in tiny.yaml: ok (network 1-1-2-1, 5 weights, loss sse, 1 training row)\n",
    )
    assert marker.read_text() == "ran"
    bad = subprocess.run(
        [sys.executable, "-c", code, "check", "--set", "seed=-1"], capture_output=True, text=True
    )
    assert bad.returncode == 2 and bad.stderr.startswith("error: ") and bad.stdout == ""


def test_the_bp_script_trains_with_the_cycle_collector_on(tmp_path: Path) -> None:
    # Held off while bp starts up (cli/entry.py, cli.errors.collector_paused), the
    # collector runs during training, and what start-up made is frozen out of its walks.
    seen = tmp_path / "collector.txt"
    code = (
        "import gc, sys\n"
        "import backprop_core.run.training as training\n"
        "epochs = training.Trainer.epochs\n"
        "def watched(self):\n"
        f"    open({str(seen)!r}, 'w').write(f'{{gc.isenabled()}} {{gc.get_freeze_count()}}')\n"
        "    yield from epochs(self)\n"
        "training.Trainer.epochs = watched\n"
        "sys.argv = ['bp', 'train', '--epochs', '3', '--quiet']\n"
        "from cli.entry import main\n"
        "main()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    enabled, frozen = seen.read_text().split()
    assert enabled == "True" and int(frozen) > 10_000
