"""Safe loading (issue 6 item 2): no object construction, bounded aliases, clear file errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from backprop_core.config.load import load_config
from backprop_core.config.yaml_source import MAX_BYTES, MAX_DEPTH, MAX_EXPANDED_NODES
from cli.app import app

runner = CliRunner()

TINY = Path(__file__).resolve().parent.parent / "configs" / "tiny.yaml"


def check(path: Path | str, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["check", str(path), *args])
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout, result.stderr


def write(tmp_path: Path, text: str | bytes, name: str = "c.yaml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "tagged",
    [
        "name: !!python/object/apply:os.system [touch pwned]",
        "name: !!python/name:os.system",
        "name: !!python/object:collections.OrderedDict {}",
        "name: !!python/object/new:builtins.str [x]",
        "network: !!python/tuple [1, 2]",
        "name: !!binary aGVsbG8=",
        "name: !custom 1",
        "training: !!set {eta}",
    ],
)
def test_object_constructing_tags_are_rejected(tmp_path: Path, tagged: str) -> None:
    path = write(tmp_path, tagged + "\n")
    code, out, err = check(path)
    assert code == 2
    assert out == ""
    tag = tagged.split()[1]
    assert (
        err == f"error: {path}:1: {tagged.split(':')[0]}: tag {tag} is not allowed: "
        "a config holds plain YAML values only\n"
    )
    assert not (tmp_path / "pwned").exists()


PLAIN_ONLY = "a config holds plain YAML values only\n"


def test_a_tag_in_a_set_override_is_rejected_too(tmp_path: Path) -> None:
    code, _, err = check(TINY, "--set", "name=!!python/object/apply:os.system [touch pwned]")
    assert code == 2
    assert err.startswith("error: --set name=!!python/object/apply:os.system [touch pwned]: ")
    assert err.endswith("tag !!python/object/apply:os.system is not allowed: " + PLAIN_ONLY)


def test_billion_laughs_fails_fast_with_a_clear_error(tmp_path: Path) -> None:
    # 9 levels of 10 aliases: 10^9 values if expanded.
    lines = ['a0: &a0 ["lol"]']
    for n in range(1, 10):
        refs = ", ".join([f"*a{n - 1}"] * 10)
        lines.append(f"a{n}: &a{n} [{refs}]")
    lines.append("network: *a9")
    path = write(tmp_path, "\n".join(lines) + "\n")
    code, out, err = check(path)
    assert code == 2
    assert out == ""
    assert err.startswith(f"error: {path}:")
    assert f"aliases expand to more than {MAX_EXPANDED_NODES:,} values; refusing to load" in err


def test_shallow_aliases_and_merge_keys_still_work(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
network:
  inputs: 1
  layers:
    - &hidden {units: 1, activation: {name: linear, slope: 2}, bias: false, weights: [[2.0]]}
    - <<: *hidden
      units: 2
      weights: [[0.75, 0.25]]
    - <<: *hidden
      weights: [[0.25], [0.5]]
data: {inputs: [[2.0]], targets: [[2.0]]}
""",
    )
    layers = load_config(path).config.network.layers
    assert [layer.units for layer in layers] == [1, 2, 1]
    assert [layer.activation.slope for layer in layers] == [2.0, 2.0, 2.0]
    assert layers[1].weights == [[0.75, 0.25]]


def test_recursive_alias(tmp_path: Path) -> None:
    path = write(tmp_path, "name: t\nnetwork: &n {inputs: 1, layers: [*n]}\n")
    code, _, err = check(path)
    assert code == 2
    assert err == f"error: {path}:2: network.layers[0]: recursive alias\n"


def test_deep_nesting_is_refused_not_a_crash(tmp_path: Path) -> None:
    path = write(tmp_path, "name: " + "[" * 5000 + "]" * 5000 + "\n")
    code, _, err = check(path)
    assert code == 2
    assert err.startswith(f"error: {path}:1: YAML syntax error at column ")
    assert f"nested more than {MAX_DEPTH} levels deep" in err


def test_aliases_nesting_deeply_are_refused(tmp_path: Path) -> None:
    # Each line is shallow; following the aliases, the last is 200 levels deep.
    lines = ["a0: &a0 [1]"] + [f"a{n}: &a{n} [*a{n - 1}]" for n in range(1, 200)]
    path = write(tmp_path, "\n".join(lines) + "\n")
    code, _, err = check(path)
    assert code == 2
    assert err.startswith(f"error: {path}:")
    assert err.endswith(f": aliases nest more than {MAX_DEPTH} levels deep; refusing to load\n")


def test_file_over_10_mb(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    with path.open("wb") as f:
        f.write(b"name: t\n# " + b"x" * MAX_BYTES + b"\n")
    code, _, err = check(path)
    assert code == 2
    size = path.stat().st_size
    assert err == f"error: {path}: file is {size:,} bytes; a config may be at most 10,485,760\n"


def test_non_utf8_file(tmp_path: Path) -> None:
    path = write(tmp_path, "name: t\nnetwork: caf\xe9\n".encode("latin-1"))
    code, _, err = check(path)
    assert code == 2
    assert err == f"error: {path}:2: not UTF-8 text (byte 20 is 0xe9); save the file as UTF-8\n"


def test_directory(tmp_path: Path) -> None:
    code, _, err = check(tmp_path)
    assert code == 2
    assert err == f"error: {tmp_path}: is a directory, expected a YAML file\n"


def test_missing_path(tmp_path: Path) -> None:
    code, _, err = check(tmp_path / "nope.yaml")
    assert code == 2
    assert err == f"error: {tmp_path / 'nope.yaml'}: no such file\n"


@pytest.mark.permissions
def test_unreadable_file(tmp_path: Path) -> None:
    import os

    path = write(tmp_path, "name: t\n")
    path.chmod(0)
    if os.access(path, os.R_OK):  # running as root: permissions do not apply
        pytest.skip("file permissions are not enforced for this user")
    code, _, err = check(path)
    assert code == 2
    assert err == f"error: {path}: cannot read: Permission denied\n"


def test_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "name: t\nnetwork: {inputs: 1\nloss: sse\n")
    code, _, err = check(path)
    assert code == 2
    assert err.startswith(f"error: {path}:3: YAML syntax error at column 5: ")


def test_exponent_numbers_are_numbers() -> None:
    """YAML 1.1 (PyYAML) reads 1e-3 as a string; bp reads it as YAML 1.2 does."""
    loaded = load_config(TINY, ["training.eta=1e-3", "training.stop_at_loss=2E+1"])
    assert loaded.config.training.eta == 0.001
    assert loaded.config.training.stop_at_loss == 20.0
