"""The checkpoint's YAML text: the user's own file with the trained values filled in.

The config is re-read with a round-trip YAML library (ruamel.yaml), so its
comments, key order and block or flow style survive; only the keys whose values
changed are rewritten, keys that went away are removed and new ones (``trained:``,
``standardization:``) are added at the end of their mapping.
"""

from __future__ import annotations

import io
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

SAVED_BY = "# Saved by bp "


def _yaml() -> YAML:
    yaml = YAML(typ="rt")  # round-trip, YAML 1.2: what bp and editors read
    yaml.width = 4096  # a row of weights on one line (wrapped flow lines keep trailing blanks)
    yaml.indent(mapping=2, sequence=4, offset=2)  # `layers:\n    - units: 8`, as shipped
    yaml.preserve_quotes = True
    return yaml


def checkpoint_text(original: str, doc: dict[str, Any], header: str) -> str:
    """`doc` written over the tree of `original` (the config's text), under `header`."""
    text = yaml_text(original, doc)
    if not original.startswith(SAVED_BY):  # a checkpoint saved again keeps one header
        text = header + text
    return text


def yaml_text(original: str, doc: dict[str, Any]) -> str:
    """`doc` as YAML, written over `original`'s text: its comments, order and style kept."""
    yaml = _yaml()
    try:
        tree = yaml.load(original) if original.strip() else None
    except YAMLError:  # bp read it with its own loader; fall back to writing it anew
        tree = None
    if not isinstance(tree, CommentedMap):
        tree = CommentedMap()
    _merge(tree, doc)
    out = io.StringIO()
    yaml.dump(tree, out)
    return out.getvalue()


def _merge(node: CommentedMap, new: dict[str, Any]) -> None:
    for key in [k for k in node if k not in new]:
        del node[key]
    for key, value in new.items():
        if key in node:
            old = node[key]
            if isinstance(value, dict) and isinstance(old, CommentedMap):
                _merge(old, value)
                continue
            if _same_records(old, value):
                for old_item, item in zip(old, value, strict=True):
                    _merge(old_item, item)
                continue
            if _equal(old, value):
                continue  # keep the text as written (0.01 stays 0.01, not 1.0e-02)
            fresh = _fresh(value)
            flow = isinstance(old, CommentedSeq) and old.fa.flow_style()
            if flow and isinstance(fresh, CommentedSeq):  # `weights: [[2.0]]` stays one line
                fresh.fa.set_flow_style()
            node[key] = fresh
        else:
            node[key] = _fresh(value)


def _same_records(old: Any, value: Any) -> bool:
    """Two lists of mappings of the same length (the layers): merged item by item."""
    return (
        isinstance(old, CommentedSeq)
        and isinstance(value, list)
        and len(old) == len(value)
        and all(isinstance(o, CommentedMap) for o in old)
        and all(isinstance(v, dict) for v in value)
    )


def _equal(old: Any, value: Any) -> bool:
    if isinstance(old, bool) or isinstance(value, bool):
        return isinstance(old, bool) and isinstance(value, bool) and old == value
    if isinstance(old, str) != isinstance(value, str):
        return False
    if isinstance(old, (list, dict)) or isinstance(value, (list, dict)):
        return bool(_plain(old) == value)
    return bool(old == value)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _fresh(value: Any) -> Any:
    """A new value in the shipped configs' style: mappings as blocks, a row of
    numbers on one line (`[0.1, 0.2]`), a matrix as one such row per line."""
    if isinstance(value, dict):
        node = CommentedMap()
        for k, v in value.items():
            node[k] = _fresh(v)
        return node
    if isinstance(value, list):
        seq = CommentedSeq(_fresh(v) for v in value)
        if not any(isinstance(v, (dict, list)) for v in value):
            seq.fa.set_flow_style()
        return seq
    return value
