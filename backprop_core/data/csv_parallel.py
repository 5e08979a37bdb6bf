"""A large numeric CSV file parsed by forked processes into one shared array.

`numpy.loadtxt` holds the GIL while its C reader parses, so threads cannot
share the work; processes can. The file's data (after the header) is cut at
line ends into pieces of a few MB, and each piece's line ends are counted: a
piece's rows go at the row offset of the lines before it, in one shared
anonymous memory map. The parent and its forked children take pieces from one
queue (a pipe of piece numbers) until it is empty, so a child the scheduler
leaves waiting costs only the pieces it did not take. Every piece is parsed by
the same C reader `loadtxt` calls, so the numbers are the serial parse's, bit
for bit.

Quotes are off here (a quoted cell may hold a line end, so a piece could start
inside one): any quote in the data makes a cell unparsable, and like any other
failure (a bad cell, a row of the wrong length, a piece with more rows than
line ends) the parallel attempt returns None; the caller then reads the file
serially, as it always has.
"""

from __future__ import annotations

import codecs
import contextlib
import gc
import math
import mmap
import os
import signal
import threading
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import numpy as np

from backprop_core.data.targets import Array

# The data part of a file no larger than this is read serially (forking and
# counting cost more than they save); each further worker needs this much more.
MIN_PARALLEL_BYTES = 16 * 2**20
MAX_WORKERS = 4
# A piece of this many bytes (cut at a line end) is parsed at once: its text
# and NumPy's temporary array stay small, and the queue balances the workers.
PIECE_BYTES = 4 * 2**20
# The queue is one pipe, written before the workers start: this many piece
# numbers fit even the one-page buffer Linux gives a user over the pipe limit
# (more data makes the pieces larger).
MAX_PIECES = 1024

_NEWLINE = 10
_INDEX_BYTES = 4
_UNREAD, _FAILED = -2, -1


def _c_reader() -> Callable[..., Array] | None:
    """NumPy's private C reader behind `loadtxt` (NumPy 1.23+), or None."""
    try:
        from numpy._core._multiarray_umath import _load_from_filelike
    except ImportError:
        try:  # NumPy 1.x, where the name `numpy._core` does not exist
            from numpy.core._multiarray_umath import _load_from_filelike
        except ImportError:
            return None
    return _load_from_filelike  # type: ignore[no-any-return]


def workers_for(data_bytes: int) -> int:
    """How many processes read `data_bytes` of CSV data; 1 = read it serially."""
    if not hasattr(os, "fork") or not hasattr(os, "sched_getaffinity"):
        return 1
    if not _alone() or data_bytes < MIN_PARALLEL_BYTES:
        return 1
    return max(1, min(_cores(), MAX_WORKERS, math.ceil(data_bytes / MIN_PARALLEL_BYTES)))


def _alone() -> bool:
    """No other Python thread runs: one could hold a lock a forked child would need."""
    return threading.active_count() == 1


def _cores() -> int:
    """The processors this process may run on (fewer than the machine's under taskset)."""
    return len(os.sched_getaffinity(0))


def read_numbers(path: Path, header_line: int, columns: int) -> Array | None:
    """The file's data rows (after `header_line` lines) as a float64 array, or None.

    None means "read it serially": too small, one core, no fork, or anything in
    the data that the pieces cannot read exactly as `numpy.loadtxt` reads the
    whole file (a quote, a bad cell, a lone carriage return in the header lines).
    """
    reader = _c_reader()
    if reader is None:
        return None
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        return _read(fd, reader, header_line, columns)
    except (ValueError, TypeError, OSError):
        # A bad cell or a quote in the parent's pieces, a changed C reader, a
        # map or a process that cannot be made.
        return None
    finally:
        os.close(fd)


def _read(fd: int, reader: Callable[..., Array], header_line: int, columns: int) -> Array | None:
    size = os.fstat(fd).st_size
    if workers_for(size) < 2:  # before any read: no fork (not Linux), one core, a small file
        return None
    start = _data_start(fd, header_line, size)
    if start is None:
        return None
    workers = workers_for(size - start)
    if workers < 2:
        return None
    bounds, slots = _pieces(fd, start, size)
    offsets = np.concatenate([[0], np.cumsum(slots)]).tolist()
    capacity = offsets[-1]
    if capacity == 0:
        return None
    out = _shared(np.float64, capacity * columns).reshape(capacity, columns)
    # Each piece's rows as parsed, and last a flag any worker sets when it fails.
    rows = _shared(np.int64, len(slots) + 1)
    rows[:-1], rows[-1] = _UNREAD, 0
    parse = _Pieces(fd, reader, out, rows, bounds, offsets)
    if not _run(parse, workers) or (rows < 0).any():
        return None
    return _joined(out, offsets, rows[:-1].tolist())


def _shared(dtype: type, count: int) -> Array:
    """A zeroed array in memory the parent and its children share; its pages are
    committed only when written."""
    itemsize = np.dtype(dtype).itemsize
    buffer = mmap.mmap(-1, count * itemsize, flags=mmap.MAP_SHARED | mmap.MAP_ANONYMOUS)
    return np.frombuffer(buffer, dtype, count=count)


def _data_start(fd: int, header_line: int, size: int) -> int | None:
    """The byte after the first `header_line` line ends, or None when that cannot
    be where `loadtxt` starts (a lone carriage return ends a line there too)."""
    head, found = b"", 0
    while found < header_line:
        block = os.pread(fd, min(2**16, size - len(head)), len(head))
        if not block:
            return None
        position = 0
        while found < header_line:
            end = block.find(b"\n", position)
            if end < 0:
                break
            found, position = found + 1, end + 1
        head += block[:position] if found == header_line else block
    if head.count(b"\r") != head.count(b"\r\n"):
        return None
    return len(head)


def _pieces(fd: int, start: int, size: int) -> tuple[list[int], list[int]]:
    """The pieces' byte bounds (each inner one just after a line end) and each
    piece's most rows: its line ends, and one for a last line without one."""
    piece = max(PIECE_BYTES, math.ceil((size - start) / MAX_PIECES))
    bounds, slots = [start], []
    buffer = _Buffer()
    at = start
    while at < size:
        want = piece
        while True:
            raw = buffer.read(fd, at, min(want, size - at))
            cut = buffer.data.rfind(b"\n", 0, len(raw)) + 1 if at + len(raw) < size else len(raw)
            if cut:
                break
            want *= 2  # a line longer than a piece
        # Three times faster than bytes.count on blocks of this size.
        newlines = int(np.count_nonzero(np.frombuffer(raw[:cut], np.uint8) == _NEWLINE))
        slots.append(newlines + (raw[cut - 1] != _NEWLINE))
        at += cut
        bounds.append(at)
    return bounds, slots


class _Buffer:
    """One buffer that every read of a process reuses: its pages are faulted in once."""

    def __init__(self) -> None:
        self.data = bytearray()

    def read(self, fd: int, at: int, size: int) -> memoryview:
        if len(self.data) < size:
            self.data = bytearray(size)
        view = memoryview(self.data)[:size]
        if os.preadv(fd, [view], at) != size:
            raise ValueError("the file changed while it was read")
        return view


class _Text:
    """A piece of the file as the C reader reads a text file: `read(n)` gives up
    to `n` characters, then ''."""

    def __init__(self, raw: memoryview) -> None:
        self.raw, self.at = raw, 0

    def read(self, size: int = -1) -> str:
        end = len(self.raw) if size < 0 else self.at + size
        text = codecs.latin_1_decode(self.raw[self.at : end])[0]
        self.at = min(end, len(self.raw))
        return text


class _Pieces:
    """Parses pieces of the file into their rows of the shared array."""

    def __init__(
        self,
        fd: int,
        reader: Callable[..., Array],
        out: Array,
        rows: Array,
        bounds: list[int],
        offsets: list[int],
    ) -> None:
        self.fd, self.reader, self.out, self.rows = fd, reader, out, rows
        self.bounds, self.offsets = bounds, offsets
        self.buffer = _Buffer()
        self.parent = os.getpid()  # the reading process

    def take_all(self, queue: int) -> None:
        """Parse the pieces whose numbers this process reads from `queue` until it
        is empty or any worker failed; ValueError when a piece fails here."""
        while self.rows[-1] != _FAILED:
            if os.getppid() != self.parent and os.getpid() != self.parent:
                # A child whose parent is gone (killed between the fork and
                # noting the child's pid): nobody waits for the rows.
                raise ValueError("the reading process is gone")
            index = os.read(queue, _INDEX_BYTES)
            if not index:
                return
            try:
                self.rows[int.from_bytes(index, "little")] = self.parse(index)
            except BaseException:
                self.rows[-1] = _FAILED  # the others stop before their next piece
                raise

    def parse(self, index: bytes) -> int:
        """One piece's rows; ValueError when it is not loadtxt's numbers or has more
        rows than line ends."""
        if len(index) != _INDEX_BYTES:
            raise ValueError("a piece number was split")
        i = int.from_bytes(index, "little")
        start, end = self.bounds[i], self.bounds[i + 1]
        values = self.reader(
            _Text(self.buffer.read(self.fd, start, end - start)),
            delimiter=",",
            comment=None,
            quote=None,
            imaginary_unit="j",
            usecols=None,
            skiplines=0,
            max_rows=-1,
            converters=None,
            dtype=np.dtype(np.float64),
            encoding="latin-1",
            filelike=True,
            byte_converters=False,
        )
        n = values.shape[0]
        if n == 0:  # blank lines only
            return 0
        if values.ndim != 2 or values.shape[1] != self.out.shape[1]:
            raise ValueError("a row's length is not the header's")
        if n > self.offsets[i + 1] - self.offsets[i]:
            raise ValueError("more rows than line ends")  # a lone carriage return
        self.out[self.offsets[i] : self.offsets[i] + n] = values
        return int(n)


def _run(parse: _Pieces, workers: int) -> bool:
    """Parse every piece in this process and `workers - 1` children; False when
    any child failed."""
    queue, feed = os.pipe()
    children: list[int] = []
    try:
        order = np.arange(len(parse.bounds) - 1, dtype="<u4").tobytes()
        os.set_blocking(feed, False)  # a full pipe fails (to the serial read), never waits
        if os.write(feed, order) != len(order):
            raise ValueError("the queue does not fit the pipe")
        os.close(feed)
        feed = -1
        for _ in range(workers - 1):
            _fork(parse, queue, children)
        parse.take_all(queue)
        ok = True
        while children:
            _, status = os.waitpid(children[0], 0)
            children.pop(0)
            ok = ok and os.waitstatus_to_exitcode(status) == 0
        return ok
    finally:
        # A failure, Ctrl-C or any exception here: no child outlives this call.
        for pid in children:
            with contextlib.suppress(ProcessLookupError):  # already exited
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):  # already reaped
                os.waitpid(pid, 0)
        os.close(queue)
        if feed >= 0:
            os.close(feed)


# Signals held back while a child is made: until its pid is in the parent's list
# and the child has its own handlers, neither may run the parent's handler.
_HELD = (signal.SIGINT, signal.SIGTERM)


class _HeldSignals:
    """SIGINT and SIGTERM held back in this process while a child is made.

    Blocked in this thread (the kernel keeps them pending), and, since another
    thread (an OpenBLAS worker, say) may take a signal sent to the process,
    caught by a handler that only notes them: the handlers bp set run once the
    child's pid is noted (`release`). The child starts with them blocked too and
    sets its own (`in_child`) before taking any.
    """

    def __enter__(self) -> _HeldSignals:
        if threading.current_thread() is not threading.main_thread():
            raise ValueError("handlers can be set in the main thread only")
        self.caught: list[int] = []
        self.handlers = {signum: signal.getsignal(signum) for signum in _HELD}
        self.mask = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
        for signum, handler in self.handlers.items():
            if handler is not None:  # (None: set outside Python, cannot be put back)
                signal.signal(signum, self._note)
        return self

    def _note(self, signum: int, frame: object) -> None:
        self.caught.append(signum)

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self.handlers.items():
            if handler is not None:
                signal.signal(signum, handler)
        signal.pthread_sigmask(signal.SIG_SETMASK, self.mask)  # a blocked one arrives now
        for signum in self.caught:  # and a noted one, to bp's handler
            os.kill(os.getpid(), signum)

    def in_child(self) -> None:
        """Ctrl-C or SIGTERM ends the child at once, without the parent's handler (a
        signal the parent ignores, the child ignores too); one held since the fork
        is delivered when the mask is restored."""
        for signum, handler in self.handlers.items():
            signal.signal(signum, signal.SIG_IGN if handler == signal.SIG_IGN else signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, self.mask)


def _fork(parse: _Pieces, queue: int, children: list[int]) -> None:
    """Start a child that parses pieces from `queue` and exits (0 when each piece
    it took was parsed, 1 otherwise); its pid goes into `children`."""
    with _HeldSignals() as held:
        with warnings.catch_warnings():
            # Python 3.12+ warns when a process with other threads forks (OpenBLAS
            # starts its own). Safe here: the child only parses text into shared
            # memory with NumPy's C reader and exits; it calls no BLAS and takes no
            # lock another thread could hold.
            warnings.filterwarnings("ignore", category=DeprecationWarning, message=".*fork")
            pid = os.fork()
            if pid == 0:
                _child(parse, queue, held)  # never returns
        children.append(pid)


def _child(parse: _Pieces, queue: int, held: _HeldSignals) -> NoReturn:
    """The child's whole life: it never returns into the parent's code, runs no
    atexit function and flushes none of the parent's buffers."""
    code = 1
    try:
        # No cycle collection: a finalizer of the parent's garbage (a temporary
        # directory's, say) must not run in the child too.
        gc.disable()
        held.in_child()
        parse.take_all(queue)
        code = 0
    finally:
        os._exit(code)


def _joined(out: Array, offsets: list[int], rows: list[int]) -> Array | None:
    """The pieces' rows, one after another: in place when each filled its slot
    (no blank lines), else later pieces moved down over the gaps."""
    total = sum(rows)
    if total == 0:
        return None
    at = rows[0]
    for i in range(1, len(rows)):
        source = offsets[i]
        if source != at:
            # Row blocks in order: an overlapping move copies only one block.
            for k in range(0, rows[i], 2**16):
                n = min(2**16, rows[i] - k)
                out[at + k : at + k + n] = out[source + k : source + k + n]
        at += rows[i]
    return out[:total]
