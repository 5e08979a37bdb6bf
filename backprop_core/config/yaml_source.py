"""Reading YAML safely, remembering where every value came from.

The config model reports errors by key path; this module maps a key path back
to the file and line it was written on (or to the ``--set`` option that
overrode it), so a message can say ``run.yaml:14: network.layers[1].units``.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from backprop_core.errors import ConfigError
from backprop_core.streams import STDIN_LABEL, is_dash, read_stdin

MAX_BYTES = 10 * 1024 * 1024
# Values written in one document (a file or one --set): PyYAML's composer takes
# ~20 us and ~1 KB per value, so a 10 MB list of numbers would take minutes and
# gigabytes. A checkpoint holds at most ~10,000 inline weights.
MAX_NODES = 100_000
# A document whose aliases expand to more values than this is refused before
# anything walks it: a "billion laughs" file fails fast, in bounded memory.
MAX_EXPANDED_NODES = 500_000
# A config is at most ~6 levels deep; the limit keeps the recursive composer
# far from Python's recursion limit (libyaml's C composer would crash instead,
# which is why the pure-Python loader is used).
MAX_DEPTH = 100

Key = tuple[str | int, ...]


@dataclass
class Source:
    """A parsed YAML document, where each key path was written, and its folder."""

    data: Any
    label: str
    folder: Path
    lines: dict[Key, int] = field(default_factory=dict)
    overridden: dict[Key, str] = field(default_factory=dict)
    text: str = ""  # as read: `--save` writes the trained values into it, comments kept

    def locate(self, key: Key) -> tuple[str, int | None]:
        """(file label, line) of the value at `key`, or of its closest written ancestor.

        A key that only a --set wrote (`--set foo.bar=1` makes `foo`) is the --set's.
        """
        for written, label in self.overridden.items():
            if written[: len(key)] == key and key not in self.lines:
                return label, None
        for n in range(len(key), -1, -1):
            prefix = key[:n]
            if prefix in self.overridden:
                return self.overridden[prefix], None
            if prefix in self.lines:
                return self.label, self.lines[prefix]
        return self.label, None

    def error(self, key: Key, message: str) -> ConfigError:
        label, line = self.locate(key)
        return ConfigError(message, file=label, line=line, key=format_key(key) or None)


def format_key(key: Key) -> str:
    """('network', 'layers', 1, 'units') -> 'network.layers[1].units'."""
    out = ""
    for part in key:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


class SafeLoader(yaml.SafeLoader):
    """PyYAML's safe loader with a nesting limit, reading plain scalars as YAML 1.2 does.

    PyYAML implements YAML 1.1, where ``yes``/``no``/``on``/``off`` are booleans,
    ``017`` is octal, ``1:30`` is a number and ``1e-3`` a string; editors' YAML 1.2
    language servers and the JSON Schema disagree. Here, as in YAML 1.2's core
    schema, only ``true``/``false`` are booleans (``targets: [no, yes]`` are two
    labels; ``shuffle: yes`` is text, refused by the config with a hint), integers
    are decimal (or 0x/0o), and ``1e-3`` is a number.
    """

    depth = 0
    nodes = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        self.depth += 1
        self.nodes += 1
        try:
            if self.nodes > MAX_NODES:
                raise yaml.MarkedYAMLError(
                    problem=_too_many_values(),
                    problem_mark=self.peek_event().start_mark,
                )
            if self.depth > MAX_DEPTH:
                raise yaml.MarkedYAMLError(
                    problem=f"nested more than {MAX_DEPTH} levels deep",
                    problem_mark=self.peek_event().start_mark,
                )
            return super().compose_node(parent, index)  # type: ignore[no-any-return]
        finally:
            self.depth -= 1

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:  # type: ignore[override]
        text = str(self.construct_scalar(node))
        sign = -1 if text.startswith("-") else 1
        digits = text.lstrip("+-")
        if digits[:2] in ("0x", "0o"):
            return sign * int(digits[2:], 16 if digits[1] == "x" else 8)
        return sign * int(digits)


# YAML 1.2 core schema (https://yaml.org/spec/1.2.2/#1032-tag-resolution).
SafeLoader.yaml_implicit_resolvers = {}
for _tag, _pattern, _first in (
    ("null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
    ("int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", list("-+0123456789")),
    (
        "float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        list("-+.0123456789"),
    ),
    ("merge", r"^(?:<<)$", ["<"]),
):
    SafeLoader.add_implicit_resolver(f"tag:yaml.org,2002:{_tag}", re.compile(_pattern), _first)
SafeLoader.add_constructor("tag:yaml.org,2002:int", SafeLoader.construct_yaml_int)

# Plain scalars YAML 1.1 reads as booleans; here they are text, and a key that
# expects a boolean says what to write instead.
YAML11_BOOLEANS = {
    **dict.fromkeys(("yes", "y", "on"), "true"),
    **dict.fromkeys(("no", "n", "off"), "false"),
}


def _too_many_values() -> str:
    return f"more than {MAX_NODES:,} values; a config may hold at most {MAX_NODES:,}"


def _count_values(text: str, label: str) -> None:
    """Refuse a document of too many values quickly, with libyaml's parser when present.

    Only counts: syntax errors are left to the composer, which locates them.
    """
    loader = getattr(yaml, "CSafeLoader", None)
    if loader is None:
        return  # the composer counts as it goes (slower, same limit)
    counted = (yaml.ScalarEvent, yaml.AliasEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent)
    values = 0
    try:
        for event in yaml.parse(text, Loader=loader):
            if isinstance(event, counted):
                values += 1
                if values > MAX_NODES:
                    raise ConfigError(
                        _too_many_values(), file=label, line=event.start_mark.line + 1
                    )
    except yaml.YAMLError:
        return


def load_value(text: str, label: str = "--set") -> Any:
    """One YAML value (a ``--set`` right-hand side), read and bounded like a config file."""
    try:
        return read_text(text, label, Path(".")).data
    except ConfigError as e:
        e.line = None  # a one-line value: the option itself is the place
        raise


def parse_key(text: str) -> Key:
    """'network.layers[1].units' -> ('network', 'layers', 1, 'units')."""
    parts: list[str | int] = []
    for piece in text.split("."):
        name, *indices = piece.split("[")
        if not name and not (indices and parts):  # only `[i]` may follow a key directly
            raise ValueError(f"empty key in key path {text!r}")
        if name:
            parts.append(name)
        for index in indices:
            if not index.endswith("]") or not index[:-1].isdigit():
                raise ValueError(f"bad index in key path {text!r}")
            parts.append(int(index[:-1]))
    if not parts:
        raise ValueError("empty key path")
    return tuple(parts)


def read_file(path: Path) -> Source:
    """A YAML file read once (``-`` is standard input; its paths are relative to the
    current folder)."""
    if is_dash(path):
        raw = read_stdin(MAX_BYTES + 1)
        if len(raw) > MAX_BYTES:
            raise ConfigError(f"input is larger than {MAX_BYTES:,} bytes", file=STDIN_LABEL)
        return read_text(_decode(raw, STDIN_LABEL), STDIN_LABEL, Path.cwd())
    label = str(path)
    try:
        if not path.exists():
            raise ConfigError("no such file", file=label)
        if path.is_dir():
            raise ConfigError("is a directory, expected a YAML file", file=label)
        # O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then
        # judges the file actually opened (no swap between check and read).
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as f:
            status = os.fstat(fd)
            if not stat.S_ISREG(status.st_mode):
                raise ConfigError(
                    "not a regular file (a FIFO, socket or device); bp reads a config from a file",
                    file=label,
                )
            if status.st_size > MAX_BYTES:
                raise ConfigError(
                    f"file is {status.st_size:,} bytes; a config may be at most {MAX_BYTES:,}",
                    file=label,
                )
            # Read one byte past the limit: a file that grows stays bounded.
            raw = f.read(MAX_BYTES + 1)
    except OSError as e:
        raise ConfigError(f"cannot read: {e.strerror or e}", file=label) from None
    if len(raw) > MAX_BYTES:
        raise ConfigError(f"file is larger than {MAX_BYTES:,} bytes", file=label)
    return read_text(_decode(raw, label), label, path.resolve().parent)


def _decode(raw: bytes, label: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise ConfigError(
            f"not UTF-8 text (byte {e.start} is 0x{raw[e.start]:02x}); save the file as UTF-8",
            file=label,
            line=line,
        ) from None


def read_text(text: str, label: str, folder: Path) -> Source:
    _count_values(text, label)
    try:
        node = yaml.compose(text, Loader=SafeLoader)
    except yaml.MarkedYAMLError as e:
        raise _syntax_error(e, label) from None
    except yaml.YAMLError as e:
        raise ConfigError(f"YAML syntax error: {e}", file=label) from None
    source = Source(None, label, folder, text=text)
    if node is None:
        return source
    try:
        _check_expansion(node, label)
        source.data = _Builder(source).build(node, ())
    except RecursionError:
        # Only aliases of aliases can nest this deep (the composer caps written depth).
        raise ConfigError(
            f"aliases nest more than {MAX_DEPTH} levels deep; refusing to load", file=label
        ) from None
    return source


def _syntax_error(e: yaml.MarkedYAMLError, label: str) -> ConfigError:
    """``run.yaml:3: YAML syntax error at column 7: found ... (while scanning ...)``."""
    mark = e.problem_mark or e.context_mark
    where = f" at column {mark.column + 1}" if mark else ""
    what = e.problem or e.context or "invalid YAML"
    if e.context and e.problem and e.context != e.problem:
        what = f"{e.problem} ({e.context})"
    return ConfigError(
        f"YAML syntax error{where}: {what}", file=label, line=mark.line + 1 if mark else None
    )


def _check_expansion(root: yaml.Node, label: str) -> None:
    """Refuse documents whose aliases expand too far or nest too deep, before building them."""
    seen: dict[int, tuple[int, int]] = {}  # id(node) -> (values when expanded, depth)

    def measure(node: yaml.Node) -> tuple[int, int]:
        known = seen.get(id(node))
        if known is not None:
            return known
        seen[id(node)] = (1, 1)  # a recursive alias counts once, then fails in the builder
        children: list[yaml.Node] = []
        if isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        total, depth = 1, 1
        for child in children:
            size, deep = measure(child)
            total, depth = total + size, max(depth, deep + 1)
        if total > MAX_EXPANDED_NODES:
            raise ConfigError(
                f"aliases expand to more than {MAX_EXPANDED_NODES:,} values; refusing to load",
                file=label,
                line=node.start_mark.line + 1,
            )
        if depth > MAX_DEPTH:
            # Only aliases of aliases get here: the composer caps the written depth.
            raise ConfigError(
                f"aliases nest more than {MAX_DEPTH} levels deep; refusing to load",
                file=label,
                line=node.start_mark.line + 1,
            )
        seen[id(node)] = (total, depth)
        return total, depth

    measure(root)


_SURROGATE = re.compile(r"[\ud800-\udfff]")

_PLAIN_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}"
    for name in ("map", "seq", "str", "int", "float", "bool", "null", "timestamp")
)


class _Builder:
    """Turns composed nodes into plain dicts, lists and scalars, recording lines."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.constructor = SafeLoader("")
        self.active: set[int] = set()

    def build(self, node: yaml.Node, key: Key) -> Any:
        self.source.lines.setdefault(key, node.start_mark.line + 1)
        if node.tag not in _PLAIN_TAGS:
            # Anything else (!!python/object, !!set, custom tags) would construct
            # objects or mean something a config cannot use.
            shown = node.tag.replace("tag:yaml.org,2002:", "!!")
            raise self._error(
                node, key, f"tag {shown} is not allowed: a config holds plain YAML values only"
            )
        if id(node) in self.active:
            raise self._error(node, key, "recursive alias")
        if isinstance(node, yaml.MappingNode):
            self.active.add(id(node))
            try:
                return self._mapping(node, key)
            finally:
                self.active.discard(id(node))
        if isinstance(node, yaml.SequenceNode):
            self.active.add(id(node))
            try:
                return [self.build(child, (*key, i)) for i, child in enumerate(node.value)]
            finally:
                self.active.discard(id(node))
        try:
            value = self.constructor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, OverflowError) as e:
            # e.g. a timestamp that is not a real date (2024-13-45)
            problem = getattr(e, "problem", None) or str(e)
            raise self._error(node, key, f"cannot read this value: {problem}") from None
        if isinstance(value, str):
            surrogate = _SURROGATE.search(value)
            if surrogate is not None:
                # "\ud800" in a double-quoted string: not a character, and no
                # file or terminal can hold it.
                code = ord(surrogate.group())
                raise self._error(
                    node, key, f"holds a lone surrogate (\\u{code:04x}), which is not text"
                )
        return value

    def _mapping(self, node: yaml.MappingNode, key: Key) -> dict[Any, Any]:
        # A key written twice is a mistake; a key written over one merged in
        # with `<<: *anchor` is the point of merging. So check before merging.
        written: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            name = self._key(key_node, key)
            if name in written:
                raise self._error(key_node, (*key, name), "duplicate key")
            written.add(name)
        try:
            self.constructor.flatten_mapping(node)  # merged entries first, then the written ones
        except yaml.YAMLError as e:
            raise self._error(node, key, f"bad merge key: {getattr(e, 'problem', e)}") from None
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            name = self._key(key_node, key)
            self.source.lines[(*key, name)] = key_node.start_mark.line + 1
            out[name] = self.build(value_node, (*key, name))
        return out

    def _key(self, key_node: yaml.Node, key: Key) -> Any:
        name = self.build(key_node, (*key, "<key>"))
        self.source.lines.pop((*key, "<key>"), None)
        if isinstance(name, (list, dict)):
            raise self._error(key_node, key, "a mapping key must be a plain value")
        return name

    def _error(self, node: yaml.Node, key: Key, message: str) -> ConfigError:
        return ConfigError(
            message,
            file=self.source.label,
            line=node.start_mark.line + 1,
            key=format_key(key) or None,
        )


def apply_override(source: Source, assignment: str) -> None:
    """Apply one ``--set key.path=value`` (the value parsed as YAML) to `source`."""
    label = f"--set {assignment}"
    if "=" not in assignment:
        raise ConfigError("expected key.path=value", file=label)
    path_text, value_text = assignment.split("=", 1)
    try:
        key = parse_key(path_text.strip())
    except ValueError as e:
        raise ConfigError(str(e).splitlines()[0], file=label) from None
    value = load_value(value_text, label) if value_text.strip() else None
    set_value(source, key, value, label)


def set_value(source: Source, key: Key, value: Any, label: str) -> None:
    if source.data is None:
        source.data = {}
    node = source.data
    for depth, part in enumerate(key[:-1]):
        nxt = key[depth + 1]
        if isinstance(part, int):
            if not isinstance(node, list) or part >= len(node):
                raise ConfigError("no such list item", file=label, key=format_key(key[: depth + 1]))
            node = node[part]
        else:
            if not isinstance(node, dict):
                raise ConfigError("not a mapping", file=label, key=format_key(key[:depth]))
            node = node.setdefault(part, [] if isinstance(nxt, int) else {})
    last = key[-1]
    if isinstance(last, int):
        if not isinstance(node, list) or last >= len(node):
            raise ConfigError("no such list item", file=label, key=format_key(key))
        node[last] = value
    else:
        if not isinstance(node, dict):
            raise ConfigError("not a mapping", file=label, key=format_key(key[:-1]))
        node[last] = value
    source.overridden[key] = label
