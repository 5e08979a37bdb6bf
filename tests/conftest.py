"""Shared test helpers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from background import Started, start_selected, stop

REPO = Path(__file__).resolve().parent.parent
CONFIGS = REPO / "configs"


@pytest.fixture
def tiny_path() -> Path:
    return CONFIGS / "tiny.yaml"


@pytest.fixture
def tiny_all_path() -> Path:
    return CONFIGS / "tiny-all.yaml"


@pytest.fixture(scope="session", autouse=True)
def background_processes(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Started]:
    """The selected tests' BACKGROUND processes (see background.py), started first."""
    started = start_selected(request.session.items, lambda: tmp_path_factory.mktemp("background"))
    yield started
    stop(started)
