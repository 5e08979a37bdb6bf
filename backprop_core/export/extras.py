"""Optional dependencies: a missing one is one line naming the extra that installs it."""

from __future__ import annotations

import importlib
from types import ModuleType

from backprop_core import pip_install
from backprop_core.errors import BpError

# The extra of pyproject.toml that installs each optional module.
EXTRAS = {"onnx": "onnx", "onnxruntime": "onnx", "torch": "torch"}


class MissingExtraError(BpError):
    def __init__(self, module: str) -> None:
        extra = EXTRAS[module]
        super().__init__(f"{module} is not installed; install it with: {pip_install(extra)}")


def require(module: str) -> ModuleType:
    """`import module`, or a MissingExtraError naming the extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtraError(module) from None
