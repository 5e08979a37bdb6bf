"""Shared test helpers."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CONFIGS = REPO / "configs"


@pytest.fixture
def tiny_path() -> Path:
    return CONFIGS / "tiny.yaml"


@pytest.fixture
def tiny_all_path() -> Path:
    return CONFIGS / "tiny-all.yaml"
