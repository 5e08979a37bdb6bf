"""BLAS threads: the default from the run's largest product, bp's own start with one
thread, and `blas_threads` leaving threadpoolctl alone when the count is already so."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backprop_core.run.threads import SPLIT_WORK, default_threads
from cli.app import app

ROOT = Path(__file__).resolve().parent.parent
CPUS = len(os.sched_getaffinity(0))
runner = CliRunner()


def test_default_is_one_thread_below_the_split_size_else_every_cpu() -> None:
    assert default_threads(SPLIT_WORK) == 1  # OpenBLAS splits only larger products
    assert default_threads(SPLIT_WORK + 1) == CPUS
    assert default_threads() == CPUS


def threads_of(config: Path, *args: str) -> int:
    result = runner.invoke(app, ["train", str(config), "--epochs", "1", "--json", *args])
    assert result.exit_code == 0, result.output
    return int(json.loads(result.stdout)["threads"])


def test_the_default_follows_the_largest_matrix_product_of_the_run(tmp_path: Path) -> None:
    # 4 rows through a 2 x 600 and a 600 x 600 matrix: 4 * 360,000 multiply-adds.
    config = tmp_path / "wide.yaml"
    config.write_text(
        "network:\n  inputs: 2\n  layers:\n    - {units: 600, activation: tanh}\n"
        "    - {units: 600, activation: tanh}\n    - {units: 1, activation: linear}\n"
        "loss: sse\ndata:\n  inputs: [[0, 1], [1, 0], [1, 1], [0, 0]]\n"
        "  targets: [[1], [1], [0], [0]]\ntraining: {eta: 0.01, epochs: 1}\n"
    )
    assert SPLIT_WORK <= 4 * 600 * 600
    assert threads_of(config) == CPUS
    assert threads_of(ROOT / "configs" / "tiny.yaml") == 1  # 1 row, 2 x 1 at most
    assert threads_of(ROOT / "configs" / "tiny.yaml", "--threads", "3") == 3


def run_python(code: str, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.endswith("NUM_THREADS")}
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**clean, **env},
        check=True,
    )
    return done.stdout.strip()


SCRIPT = """
import sys
from cli.entry import prepare
prepare()  # as the bp script does, before anything imports NumPy
import numpy, threadpoolctl
from backprop_core.run import threads
def count():
    return threadpoolctl.threadpool_info()[0]["num_threads"]
print(threads._started, count())
with threads.blas_threads(2):
    print(count())
print(count())
"""


def test_the_bp_process_starts_openblas_with_one_thread_and_raises_it_when_asked() -> None:
    assert run_python(SCRIPT).split() == ["1", "1", "2", "1"]


def test_a_thread_variable_of_the_user_is_left_as_it_is() -> None:
    started, before, inside, after = run_python(SCRIPT, OMP_NUM_THREADS="2").split()
    assert started == "None"  # bp set nothing
    assert inside == "2" and before == after


def test_one_thread_asked_of_a_bp_started_blas_needs_no_threadpoolctl() -> None:
    code = (
        "from cli.entry import prepare\nprepare()\nimport sys, numpy\n"
        "from backprop_core.run.threads import blas_threads\n"
        "with blas_threads(1):\n    print('threadpoolctl' in sys.modules)\n"
        "with blas_threads(2):\n    print('threadpoolctl' in sys.modules)\n"
    )
    assert run_python(code).split() == ["False", "True"]


def test_predict_takes_the_threads_training_would_for_its_pass(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from contextlib import nullcontext

    import numpy as np

    from backprop_core.config.load import load_config
    from backprop_core.run import predict as predicting

    asked: list[int] = []
    monkeypatch.setattr(predicting, "blas_threads", lambda n: asked.append(n) or nullcontext())
    model = predicting.load_model(load_config(ROOT / "configs" / "tiny.yaml"))
    predicting.predict(model, np.ones((1, 1)))
    # The largest matrix of the reference network has 2 weights: 2 * rows multiply-adds.
    predicting.predict(model, np.ones((SPLIT_WORK // 2 + 1, 1)))
    assert asked == [1, CPUS]


@pytest.mark.parametrize(
    ("maps", "skipped"),
    [
        ("7f00 r-xp /site-packages/numpy.libs/libscipy_openblas64_-32a4b2a6.so\n", True),
        # An OpenMP OpenBLAS follows OMP_NUM_THREADS, not the variable bp set.
        ("7f00 r-xp /usr/lib/libopenblas.so.0\n7f01 r-xp /usr/lib/libgomp.so.1\n", False),
        ("7f00 r-xp /opt/intel/libmkl_rt.so.2\n", False),
        (None, False),  # no /proc: threadpoolctl decides
    ],
)
def test_threadpoolctl_is_skipped_only_for_a_pthreads_openblas_bp_started(
    monkeypatch: pytest.MonkeyPatch, maps: str | None, skipped: bool
) -> None:
    import io

    from backprop_core.run import threads

    def fake_open(path: str) -> io.StringIO:
        assert path == "/proc/self/maps"
        if maps is None:
            raise FileNotFoundError(path)
        return io.StringIO(maps)

    monkeypatch.setattr(threads, "open", fake_open, raising=False)
    monkeypatch.setattr(threads, "_started", 1)
    assert threads._openblas_started_with(1) is skipped
    assert threads._openblas_started_with(2) is False  # not the count it started with
