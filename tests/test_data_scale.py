"""The C-parsed CSV path agrees with the cell-by-cell reader, or leaves the file to it.

Whatever a file holds, reading it gives the numbers (bit for bit) or the
error message that the cell-by-cell reader gives; the fast path only decides
how quickly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backprop_core.data.csv_table import (
    MAX_CSV_BYTES,
    NumericTable,
    _read_text_table,
    read_table,
)
from backprop_core.errors import DataError

CELLS = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.integers(-(10**20), 10**20).map(str),
    st.sampled_from(
        [
            "",
            " ",
            "nan",
            "inf",
            "-Infinity",
            "1e400",
            "1_0",
            "0x1p3",
            "abc",
            "#1",
            "١",
            "\u22123",  # a minus sign that is not ASCII
            "\xa03",  # a no-break space before a number
            "\uff13",  # a full-width digit
            "é",
            '"2.5"',
            ' "2.5"',
            "1 2",
            "\t3\t",
            "1d5",
            "+.5",
            "5.",
        ]
    ),
)
LINE_ENDS = st.sampled_from(["\n", "\r\n", "\r"])


def outcome(read: object) -> object:
    try:
        table = read()  # type: ignore[operator]
        return ("ok", table.numbers(table.header).tolist(), list(table.lines))
    except DataError as e:
        return ("error", str(e))


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(st.lists(CELLS, min_size=1, max_size=3), min_size=0, max_size=5),
    blank=st.booleans(),
    end=LINE_ENDS,
)
def test_fast_and_cell_by_cell_readers_agree(
    tmp_path: Path, rows: list[list[str]], blank: bool, end: str
) -> None:
    lines = ["a,b", *(",".join(row) for row in rows)]
    if blank:
        lines.insert(min(2, len(lines)), "")
    path = tmp_path / "t.csv"
    path.write_bytes(end.join(lines).encode() + end.encode())
    expected = outcome(lambda: _read_text_table(path, "t.csv"))
    assert outcome(lambda: read_table(path, "t.csv")) == expected


def test_a_file_of_numbers_is_one_float_array_with_lazy_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("# a comment\nx,y\n\n1.5,2\n 3 ,-4e-3\n")
    table = read_table(path, "t.csv")
    assert isinstance(table, NumericTable)
    np.testing.assert_array_equal(table.numbers(["y", "x"]), [[2.0, 1.5], [-4e-3, 3.0]])
    assert table.lines == [4, 5] and table.text_column("y") == ["2", "-4e-3"]
    assert str(table.locator(["x"]).at(1, 0, "bad")) == "t.csv:5: column 'x': bad"


def test_a_csv_over_the_limit_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    with path.open("wb") as f:
        f.truncate(MAX_CSV_BYTES + 1)  # sparse: no disk space used
    with pytest.raises(DataError) as e:
        read_table(path, "huge.csv")
    assert str(e.value) == (
        f"huge.csv: file is {MAX_CSV_BYTES + 1:,} bytes; a CSV file may be at most "
        f"{MAX_CSV_BYTES:,} bytes (save larger data as .npz)"
    )


@pytest.mark.parametrize("more", ["", "  standardize: true\n  validation: 0.25\n"])
def test_float32_npz_stays_float32_and_loads_the_same_numbers(tmp_path: Path, more: str) -> None:
    from backprop_core.config.load import load_config
    from backprop_core.data.load import load_data
    from backprop_core.run.experiment import load_experiment

    X = np.random.default_rng(0).standard_normal((8, 2)).astype(np.float32)
    T = (X[:, :1] > 0).astype(np.float32)
    datasets = {}
    for dtype in (np.float32, np.float64):
        np.savez(tmp_path / "t.npz", X=X.astype(dtype), T=T.astype(dtype))
        config = tmp_path / "run.yaml"
        config.write_text(
            "network: {inputs: 2, layers: [{units: 1, activation: linear}]}\n"
            f"loss: mse\ndata:\n  file: {{path: t.npz}}\n{more}"
        )
        datasets[dtype] = load_data(load_config(config))
        if dtype is np.float32 and not more:
            assert datasets[dtype].X.dtype == np.float32  # no float64 copy on the way
        for precision in ("float32", "float64"):
            experiment = load_experiment(config, [f"training.precision={precision}"])
            assert experiment.data.X.dtype == np.dtype(precision)
    a, b = datasets[np.float32], datasets[np.float64]
    np.testing.assert_array_equal(a.X.astype(np.float64), b.X)
    np.testing.assert_array_equal(a.T.astype(np.float64), b.T)


def test_numeric_columns_in_file_order_are_views_of_the_one_array(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("a,b,c,y\n1,2,3,4\n5,6,7,8\n")
    table = read_table(path, "t.csv")
    assert isinstance(table, NumericTable)
    X, T = table.numbers(["a", "b", "c"]), table.numbers(["y"])
    assert np.shares_memory(X, table.values) and np.shares_memory(T, table.values)
    np.testing.assert_array_equal(X, [[1, 2, 3], [5, 6, 7]])
    np.testing.assert_array_equal(T, [[4], [8]])
    every_other = table.numbers(["a", "c"])  # evenly spaced: still a view
    assert np.shares_memory(every_other, table.values)
    np.testing.assert_array_equal(every_other, [[1, 3], [5, 7]])
    shuffled = table.numbers(["c", "a", "y"])  # out of file order: a copy
    assert not np.shares_memory(shuffled, table.values)
    np.testing.assert_array_equal(shuffled, [[3, 1, 4], [7, 5, 8]])


@pytest.mark.parametrize("shape", [(50, 1), (40, 2), (33, 3), (1000, 7), (3, 9), (1, 4)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_blockwise_statistics_are_numpys_bit_for_bit(
    monkeypatch: pytest.MonkeyPatch, shape: tuple[int, int], dtype: type
) -> None:
    from backprop_core.data import load

    X = (np.random.default_rng(3).standard_normal(shape) * 5 + 2).astype(dtype)
    X[:, 0] = 1.5  # a constant column keeps std 1
    want_mean, want_std = X.mean(axis=0, dtype=np.float64), X.std(axis=0, dtype=np.float64)
    want_std = np.where(want_std > 0, want_std, 1.0)
    for block in (8, 64, 1 << 20):  # bytes: blocks of two columns, a few, all at once
        monkeypatch.setattr(load, "BLOCK_BYTES", block)
        mean, std = load.statistics(X)
        assert mean.tobytes() == want_mean.tobytes() and std.tobytes() == want_std.tobytes()


@pytest.mark.parametrize("columns", [slice(0, 1), slice(0, 9), slice(9, 10), slice(3, 8)])
def test_statistics_of_csv_column_views_are_those_of_their_copies(columns: slice) -> None:
    """A CSV's inputs are a strided view of the table's array; before, a copy."""
    from backprop_core.data.load import statistics

    table = np.random.default_rng(4).standard_normal((20_001, 10)) * 3 + 1
    view, copy = table[:, columns], np.ascontiguousarray(table[:, columns])
    for got, want in zip(statistics(view), statistics(copy), strict=True):
        assert got.tobytes() == want.tobytes()
    std = copy.std(axis=0, dtype=np.float64)
    assert statistics(view)[1].tobytes() == np.where(std > 0, std, 1.0).tobytes()


NPZ_CONFIG = (
    "network: {{inputs: 64, layers: [{{units: 2, activation: linear}}]}}\n"
    "loss: mse\ndata:\n  file: {{path: t.npz}}\n  standardize: true\n{more}"
    "training: {{precision: {precision}}}\n"
)


def _npz(tmp_path: Path, rows: int, more: str = "", precision: str = "float32") -> Path:
    rng = np.random.default_rng(5)
    X = (rng.standard_normal((rows, 64)) * 3 + 1).astype(np.float32)
    np.savez(tmp_path / "t.npz", X=X, T=rng.standard_normal((rows, 2)).astype(np.float32))
    config = tmp_path / "run.yaml"
    config.write_text(NPZ_CONFIG.format(more=more, precision=precision))
    return config


@pytest.mark.parametrize("more", ["", "  validation: 0.25\n"])
@pytest.mark.parametrize("precision", ["float32", "float64"])
def test_standardized_float32_data_is_scaled_once_in_the_training_precision(
    tmp_path: Path, more: str, precision: str
) -> None:
    """The numbers of the float64 formula (X - mean) / std, rounded once to the
    training precision, as before the scaling went block by block."""
    from backprop_core.config.load import load_config
    from backprop_core.data.load import load_data

    data = load_data(load_config(_npz(tmp_path, 300, more, precision)))
    split = data.X_val is not None
    assert split == bool(more)
    with np.load(tmp_path / "t.npz") as f:
        X = f["X"]
    for part in [data.X, data.X_val] if split else [data.X]:
        assert part is not None and part.dtype == np.dtype(precision)
    assert data.mean is not None and data.std is not None
    if not split:
        std = X.std(axis=0, dtype=np.float64)
        assert data.std.tobytes() == np.where(std > 0, std, 1.0).tobytes()
    # Every row as read, scaled with the training rows' statistics.
    rows = np.concatenate([data.X, data.X_val]) if split else data.X
    every = ((X - data.mean) / data.std).astype(precision)
    assert sorted(map(bytes, rows)) == sorted(map(bytes, every))


@pytest.mark.parametrize("more", ["", "  validation: 0.25\n"])
def test_loading_float32_data_to_train_in_float32_peaks_near_one_copy(
    tmp_path: Path, more: str
) -> None:
    """Read, split, standardize: the data once, the held-out quarter copied, a few MB
    of blocks; never a float64 copy (four times the data and more, before)."""
    import tracemalloc

    from backprop_core.config.load import load_config
    from backprop_core.data.load import load_data

    config = _npz(tmp_path, 40_000, more)  # X: 10 MB
    loaded = load_config(config)
    data_bytes = 40_000 * 66 * 4
    tracemalloc.start()
    try:
        data = load_data(loaded)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    limit = 1.3 if not more else 1.45  # the blocks' scratch; the held-out rows' copy
    assert peak < limit * data_bytes, peak / data_bytes
    assert data.X.dtype == np.float32


@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
def test_split_moves_the_training_rows_to_the_front_and_the_held_out_to_the_end(loss: str) -> None:
    from backprop_core.data.load import Dataset, split

    rng = np.random.default_rng(7)
    X = rng.standard_normal((1000, 3)).astype(np.float32)
    T = np.eye(2, dtype=np.float32)[rng.integers(0, 2, 1000)]
    X0, T0 = X.copy(), T.copy()
    held = split(Dataset(X, T), 0.3, 11, loss)
    assert held.X_val is not None and held.T_val is not None
    val = np.flatnonzero(np.isin(X0[:, 0], held.X_val[:, 0]))
    kept = np.setdiff1d(np.arange(1000), val)
    assert len(val) == 300
    for part, whole in ((held.X, X), (held.T, T), (held.X_val, X), (held.T_val, T)):
        assert np.shares_memory(part, whole)  # no copy kept
    np.testing.assert_array_equal(held.X, X0[kept])  # in their order, as read
    np.testing.assert_array_equal(held.T, T0[kept])
    np.testing.assert_array_equal(held.X_val, X0[val])
    np.testing.assert_array_equal(held.T_val, T0[val])


def test_standardization_is_the_same_whichever_csv_reader_read_the_inputs(tmp_path: Path) -> None:
    """Numbers only: NumPy's reader; a text label column: the cell-by-cell one. The
    same inputs get the same statistics, bit for bit (they summed in different
    orders when the fast path's inputs were a column-ordered copy)."""
    from backprop_core.config.load import load_config
    from backprop_core.data.load import load_data

    X = np.random.default_rng(8).standard_normal((999, 3)) * 7 + 3
    stats = {}
    for kind, labels in (("values", ["0", "1"]), ("labels", ["a", "b"])):
        rows = [",".join([*map(repr, x), labels[i % 2]]) for i, x in enumerate(X.tolist())]
        (tmp_path / f"{kind}.csv").write_text("p,q,r,y\n" + "\n".join(rows) + "\n")
        config = tmp_path / f"{kind}.yaml"
        config.write_text(
            "network: {inputs: 3, layers: [{units: 1, activation: sigmoid}]}\nloss: bce\n"
            f"data:\n  file: {{path: {kind}.csv}}\n  standardize: true\n"
        )
        data = load_data(load_config(config))
        assert data.mean is not None and data.std is not None
        stats[kind] = (data.mean.tobytes(), data.std.tobytes(), data.X.tobytes())
    assert stats["values"] == stats["labels"]
