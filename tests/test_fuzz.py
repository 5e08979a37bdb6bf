"""Fuzz `bp check`: random YAML documents and random edits of the shipped configs.

Whatever the input, bp answers with exit 0 or 2, never a traceback, and quickly
(each run is bounded by a generous timeout, not asserted as a timing).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_helpers import time_bound
from typer.testing import CliRunner

from cli.app import app

runner = CliRunner()
ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted((ROOT / "configs").glob("*.yaml"))
LIMIT_SECONDS = 20  # a hang would show up as a failure, not a stuck suite


def check_text(folder: Path, text: str) -> None:
    path = folder / "fuzz.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    with time_bound(LIMIT_SECONDS):
        result = runner.invoke(app, ["check", str(path)])
    assert result.exit_code in (0, 2), (text, result.output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        text,
        repr(result.exception),
    )
    assert "Traceback" not in result.output
    if result.exit_code == 2:
        assert result.stderr.startswith("error: "), result.stderr


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(
        [
            "full",
            "sigmoid",
            "relu",
            "softmax",
            "sse",
            "cross_entropy",
            "xor",
            "xh1",
            "biases",
            "1e-3",
            ".nan",
            "~",
            "*a",
            "&a",
            "!!python/none",
        ]
    ),
)
keys = st.one_of(
    st.sampled_from(
        [
            "name",
            "seed",
            "network",
            "inputs",
            "layers",
            "units",
            "activation",
            "bias",
            "weights",
            "biases",
            "loss",
            "data",
            "targets",
            "file",
            "generate",
            "training",
            "eta",
            "epochs",
            "batch_size",
            "optimizer",
            "freeze",
            "validation",
            "slope",
            "alpha",
            "path",
            "trained",
        ]
    ),
    st.text(max_size=8),
)
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(keys, inner, max_size=6)),
    max_leaves=30,
)

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(doc=documents)
def test_random_documents(tmp_path: Path, doc: Any) -> None:
    check_text(tmp_path, yaml.safe_dump(doc, allow_unicode=True))


@FUZZ
@given(raw=st.text(alphabet=st.sampled_from(list("{}[]:,-&*!|>'\"#%@` \n\tab01.")), max_size=80))
def test_random_yaml_syntax(tmp_path: Path, raw: str) -> None:
    check_text(tmp_path, raw)


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node[:4]):
            out += paths(v, (*prefix, i))
    return out


@FUZZ
@given(data=st.data())
def test_random_mutations_of_shipped_configs(tmp_path: Path, data: st.DataObject) -> None:
    source = data.draw(st.sampled_from(SHIPPED), label="config")
    doc = yaml.safe_load(source.read_text())
    for _ in range(data.draw(st.integers(1, 3), label="edits")):
        where = data.draw(st.sampled_from(paths(doc)[1:]), label="path")
        parent = doc
        for part in where[:-1]:
            parent = parent[part]
        action = data.draw(st.sampled_from(["replace", "delete", "wrap", "rename"]), label="action")
        last = where[-1]
        if action == "replace":
            parent[last] = data.draw(documents, label="value")
        elif action == "delete":
            del parent[last]
        elif action == "wrap":
            parent[last] = [parent[last]]
        elif isinstance(parent, dict):
            parent[data.draw(keys, label="new key")] = parent.pop(last)
    text = yaml.safe_dump(doc, allow_unicode=True)
    # Relative data paths in the shipped configs must still resolve.
    (tmp_path / "data").mkdir(exist_ok=True)
    for data_file in (ROOT / "configs" / "data").glob("*"):
        target = tmp_path / "data" / data_file.name
        if not target.exists():
            target.write_bytes(data_file.read_bytes())
    check_text(tmp_path, text)


def test_every_shipped_config_checks_clean(tmp_path: Path) -> None:
    for path in SHIPPED:
        result = runner.invoke(app, ["check", str(path)])
        assert result.exit_code == 0, (path, result.output)
