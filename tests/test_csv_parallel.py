"""A large CSV file read by forked processes gives `numpy.loadtxt`'s numbers or declines.

The thresholds are lowered so that files of a few hundred bytes take the
parallel path in pieces of a few bytes; every comparison is with the serial
`loadtxt` call the CSV reader makes, bit for bit.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backprop_core.data import csv_parallel
from backprop_core.data.csv_parallel import read_numbers
from backprop_core.data.csv_table import NumericTable, _loadtxt, read_table
from backprop_core.errors import DataError

GOOD = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.floats(width=32, allow_nan=False, allow_infinity=False).map(lambda x: f"{x:.7g}"),
    st.integers(-(10**20), 10**20).map(str),
    st.sampled_from(["1e5", "-2.5E-3", "+.5", "5.", "-0", " 7 ", "1E+300", "4.9e-324", "inf"]),
)
BAD = st.sampled_from(["abc", "", "1 2", "--1", "0x10", "é"])
QUOTED = st.sampled_from(['"2.5"', '"1,5"', '"3\n4"'])


@st.composite
def csv_files(draw: st.DrawFn) -> tuple[str, int, int, bool]:
    """(text, header line, columns, clean): clean means rows (of two bytes or more, which
    two workers share), no quote and no bad cell."""
    columns = draw(st.integers(1, 4))
    comments = draw(st.integers(0, 2))
    end = draw(st.sampled_from(["\n", "\r\n"]))
    lines = [f"# comment {i}" for i in range(comments)]
    lines.append(",".join(f"c{i}" for i in range(columns)))
    clean, rows = True, 0
    for _ in range(draw(st.integers(1, 30))):
        if draw(st.integers(0, 15)) == 0:
            lines.append("")  # a blank line: loadtxt skips it
            continue
        row = [draw(GOOD) for _ in range(columns)]
        rows += 1
        kind = draw(st.integers(0, 40))
        if kind == 0:
            row[draw(st.integers(0, columns - 1))] = draw(BAD)
            clean = False
        elif kind == 1:
            row[draw(st.integers(0, columns - 1))] = draw(QUOTED)
            clean = False
        lines.append(",".join(row))
    bom = "\ufeff" if draw(st.booleans()) else ""  # as some spreadsheets save UTF-8
    text = bom + end.join(lines) + (end if draw(st.booleans()) else "")
    data = len(text.encode()) - len((bom + end.join(lines[: comments + 1]) + end).encode())
    return text, comments + 1, columns, clean and rows > 0 and data >= 2


def serial(path: Path, header_line: int) -> np.ndarray | None:
    try:
        return _loadtxt(path, header_line)
    except ValueError:
        return None


@pytest.fixture
def tiny(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Parallel reads of small files in two workers; yields the pids forked."""
    forked: list[int] = []
    fork = csv_parallel._fork

    def counted(parse: object, queue: int, children: list[int]) -> None:
        fork(parse, queue, children)  # type: ignore[arg-type]
        forked.append(children[-1])

    monkeypatch.setattr(csv_parallel, "MIN_PARALLEL_BYTES", 1)
    monkeypatch.setattr(csv_parallel, "PIECE_BYTES", 16)
    monkeypatch.setattr(csv_parallel, "_cores", lambda: 2)
    # Other tests leave threads behind (Playwright's); the children here only
    # parse, as in bp, where the check keeps threads' locks out of the children.
    monkeypatch.setattr(csv_parallel, "_alone", lambda: True)
    monkeypatch.setattr(csv_parallel, "_fork", counted)
    yield forked
    for pid in forked:  # every child was reaped by the call that forked it
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(file=csv_files(), workers=st.integers(2, 4), piece=st.integers(1, 64))
def test_parallel_reads_equal_loadtxt_bit_for_bit(
    tmp_path: Path, tiny: list[int], file: tuple[str, int, int, bool], workers: int, piece: int
) -> None:
    text, header_line, columns, clean = file
    path = tmp_path / "t.csv"
    path.write_bytes(text.encode())
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(csv_parallel, "_cores", lambda: workers)
        patch.setattr(csv_parallel, "PIECE_BYTES", piece)
        parallel = read_numbers(path, header_line, columns)
    expected = serial(path, header_line)
    if clean:
        assert parallel is not None and expected is not None
    if parallel is not None:
        assert expected is not None
        assert parallel.shape == expected.shape and parallel.dtype == np.float64
        assert parallel.flags.c_contiguous
        assert parallel.tobytes() == expected.tobytes()


def test_the_parallel_path_reads_a_clean_file_in_forked_children(
    tmp_path: Path, tiny: list[int]
) -> None:
    path = tmp_path / "t.csv"
    path.write_text("a,b,y\n" + "".join(f"{i},{i / 7},{-i}e-3\n" for i in range(200)))
    table = read_table(path, "t.csv")
    assert len(tiny) == 1  # one child beside the parent: the path is in use
    assert isinstance(table, NumericTable)
    assert table.values.tobytes() == serial(path, 1).tobytes()  # type: ignore[union-attr]


def test_above_and_below_the_threshold_read_table_gives_the_same_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "t.csv"
    path.write_text("# from a paper\r\nx,y\r\n\r\n1.5,2\r\n 3 ,-4e-3\r\n\r\n5,6e300\r\n")
    below = read_table(path, "t.csv")
    monkeypatch.setattr(csv_parallel, "MIN_PARALLEL_BYTES", 1)
    monkeypatch.setattr(csv_parallel, "PIECE_BYTES", 8)
    monkeypatch.setattr(csv_parallel, "_cores", lambda: 3)
    monkeypatch.setattr(csv_parallel, "_alone", lambda: True)
    assert csv_parallel.workers_for(path.stat().st_size) == 3
    above = read_table(path, "t.csv")
    assert isinstance(above, NumericTable) and isinstance(below, NumericTable)
    assert above.values.tobytes() == below.values.tobytes()
    assert above.values.tolist() == [[1.5, 2.0], [3.0, -4e-3], [5.0, 6e300]]
    assert above.lines == below.lines == [4, 5, 7]


def interrupt(*args: object) -> None:
    raise KeyboardInterrupt


def by_process(monkeypatch: pytest.MonkeyPatch, name: str, **how: Callable[..., Any]) -> None:
    """`_Pieces.<name>` as `how["parent"]` in this process and `how["child"]` in a
    forked child (each the original where not given)."""
    parent, original = os.getpid(), getattr(csv_parallel._Pieces, name)
    in_parent, in_child = how.get("parent", original), how.get("child", original)

    def split(self: csv_parallel._Pieces, arg: Any) -> Any:
        return (in_parent if os.getpid() == parent else in_child)(self, arg)

    monkeypatch.setattr(csv_parallel._Pieces, name, split)


def parent_takes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The children parse every piece (the parent takes none from the queue)."""
    by_process(monkeypatch, "take_all", parent=lambda self, queue: None)


def test_a_child_parses_into_the_shared_array(
    tmp_path: Path, tiny: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "t.csv"
    path.write_text("a,b\n" + "".join(f"{i}.25,{i}\n\n" for i in range(50)))
    parent_takes_nothing(monkeypatch)
    values = read_numbers(path, 1, 2)
    assert values is not None and len(tiny) == 1
    assert values.tolist() == [[i + 0.25, i] for i in range(50)]


def test_a_bad_cell_in_a_childs_piece_declines_and_the_error_names_the_cell(
    tmp_path: Path, tiny: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "t.csv"
    rows = [f"{i},{i}" for i in range(40)]
    rows[30] = "30,3O"
    path.write_text("a,b\n" + "\n".join(rows) + "\n")
    parent_takes_nothing(monkeypatch)
    assert read_numbers(path, 1, 2) is None and len(tiny) == 1
    with pytest.raises(DataError) as e:  # the parallel try, then loadtxt, then cell by cell
        read_table(path, "t.csv").numbers(["a", "b"])
    assert str(e.value) == "t.csv:32: column 'b': expected a number, got '3O'"
    assert len(tiny) == 2


def test_a_child_killed_midway_declines(
    tmp_path: Path, tiny: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "t.csv"
    path.write_text("a\n" + "".join(f"{i}\n" for i in range(100)))
    by_process(monkeypatch, "parse", child=lambda self, index: os.kill(os.getpid(), signal.SIGKILL))
    parent_takes_nothing(monkeypatch)
    assert read_numbers(path, 1, 1) is None and len(tiny) == 1


def test_ctrl_c_in_the_parent_kills_and_reaps_the_children(
    tmp_path: Path, tiny: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "t.csv"
    path.write_text("a\n" + "".join(f"{i}\n" for i in range(100)))
    by_process(monkeypatch, "take_all", parent=interrupt)
    with pytest.raises(KeyboardInterrupt):
        read_numbers(path, 1, 1)
    assert len(tiny) == 1  # the fixture checks it was reaped


@pytest.fixture
def interrupt_raises() -> Iterator[None]:
    """Ctrl-C raises KeyboardInterrupt, whatever handler an import installed (bp's
    start-up handler in cli/entry.py exits the process at once)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def signal_at_fork(monkeypatch: pytest.MonkeyPatch, *, in_child: bool) -> list[int]:
    """os.fork in csv_parallel sends SIGINT to the parent (or to the child) at once
    after forking, in the window before the parent has noted the child's pid and
    the child has its own handlers; returns the pids forked."""
    real_fork, pids = os.fork, []

    def fork() -> int:
        pid = real_fork()
        if (pid == 0) == in_child:
            os.kill(os.getpid(), signal.SIGINT)
            # Time for the signal to arrive (through another thread when this one
            # blocks it); Python runs its handler during the sleep.
            time.sleep(0.05)
        if pid:
            pids.append(pid)
        return pid

    monkeypatch.setattr(csv_parallel.os, "fork", fork)
    return pids


def test_ctrl_c_right_after_the_fork_reaches_the_parent_with_its_child_noted(
    tmp_path: Path, tiny: list[int], monkeypatch: pytest.MonkeyPatch, interrupt_raises: None
) -> None:
    path = tmp_path / "t.csv"
    path.write_text("a\n" + "".join(f"{i}\n" for i in range(100)))
    pids = signal_at_fork(monkeypatch, in_child=False)
    # Another thread, which does not block the signal: the kernel hands it to that
    # thread, and Python runs the handler in this one at once (as with an OpenBLAS
    # worker thread, or the threads a test library leaves behind).
    done = threading.Event()
    other = threading.Thread(target=done.wait)
    other.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            read_numbers(path, 1, 1)
    finally:
        done.set()
        other.join()
    assert len(pids) == 1
    with pytest.raises(ChildProcessError):  # killed and reaped, not left running
        os.waitpid(pids[0], os.WNOHANG)


def test_ctrl_c_right_after_the_fork_ends_the_child_without_the_parents_code(
    tmp_path: Path,
    tiny: list[int],
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture,
    interrupt_raises: None,
) -> None:
    path = tmp_path / "t.csv"
    path.write_text("a\n" + "".join(f"{i}\n" for i in range(100)))
    pids = signal_at_fork(monkeypatch, in_child=True)
    parent_takes_nothing(monkeypatch)  # the child's pieces are never parsed
    real_waitpid, statuses = os.waitpid, []

    def waitpid(pid: int, options: int) -> tuple[int, int]:
        done = real_waitpid(pid, options)
        statuses.append(done[1])
        return done

    monkeypatch.setattr(csv_parallel.os, "waitpid", waitpid)
    assert read_numbers(path, 1, 1) is None  # the child died of the signal: declined
    assert len(pids) == 1
    # Killed by the signal itself (its default action), not ended by Python code
    # raising KeyboardInterrupt in a copy of the parent's program.
    assert os.WIFSIGNALED(statuses[0]) and os.WTERMSIG(statuses[0]) == signal.SIGINT
    out, err = capfd.readouterr()
    assert out == "" and err == ""  # no traceback or message from the child


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("a\r1\n2\n3\n", "a lone carriage return in the header lines"),
        ("a\n1\r2\n3\n", "a lone carriage return in the data: more rows than line ends"),
        ('a\n1\n"2"\n3\n', "a quote"),
        ("a,b\n1,2\n3\n", "a short row"),
        ("a\n\n\n", "no rows"),
    ],
)
def test_what_the_pieces_cannot_read_exactly_is_left_to_loadtxt(
    tmp_path: Path, tiny: list[int], text: str, why: str
) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(text.encode())
    assert read_numbers(path, 1, text.split("\n")[0].count(",") + 1) is None, why


def test_small_files_one_core_and_threads_read_serially(monkeypatch: pytest.MonkeyPatch) -> None:
    big = csv_parallel.MIN_PARALLEL_BYTES
    monkeypatch.setattr(csv_parallel, "_cores", lambda: 8)
    monkeypatch.setattr(csv_parallel, "_alone", lambda: True)
    assert csv_parallel.workers_for(big - 1) == 1
    assert csv_parallel.workers_for(big) == 1  # each worker needs a share this large
    assert csv_parallel.workers_for(2 * big) == 2
    assert csv_parallel.workers_for(100 * big) == csv_parallel.MAX_WORKERS
    monkeypatch.setattr(csv_parallel, "_cores", lambda: 1)
    assert csv_parallel.workers_for(100 * big) == 1
    monkeypatch.undo()  # the real thread check
    monkeypatch.setattr(csv_parallel, "_cores", lambda: 2)
    done = threading.Event()
    other = threading.Thread(target=done.wait)
    other.start()
    try:
        assert csv_parallel.workers_for(100 * big) == 1  # a thread besides this one
    finally:
        done.set()
        other.join()


def test_a_child_whose_reading_process_is_gone_stops_taking_pieces() -> None:
    pieces = object.__new__(csv_parallel._Pieces)
    pieces.rows = np.zeros(2, np.int64)
    pieces.parent = -1  # neither this process nor its parent: the reader is gone
    queue, feed = os.pipe()
    try:
        os.write(feed, (0).to_bytes(4, "little"))
        with pytest.raises(ValueError, match="the reading process is gone"):
            pieces.take_all(queue)
        assert os.read(queue, 4) == (0).to_bytes(4, "little")  # nothing was taken
    finally:
        os.close(queue)
        os.close(feed)
