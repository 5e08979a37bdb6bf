"""pydantic's plugin loader, loaded only when plugins are actually looked for.

pydantic asks its plugin loader (`pydantic.plugin._loader.get_plugins`) for
plugins each time it builds a validator. Loading that module imports
`importlib.metadata` (with `email`, `zipfile`, `csv` ...): about 4% of a
`bp check`, even when `PYDANTIC_DISABLE_PLUGINS` says there are none to find.
`install` puts a stand-in under the loader's name that answers as the loader
does when plugins are disabled, and hands every other question (plugins
enabled, any other name) to the real module, loaded then.
"""

from __future__ import annotations

import os
import sys
import types
from typing import Any

NAME = "pydantic.plugin._loader"
# The values for which pydantic's `get_plugins` returns no plugins without looking.
DISABLED = ("__all__", "1", "true")


class DeferredLoader(types.ModuleType):
    """Stands in for `pydantic.plugin._loader` until something needs the real one."""

    def __init__(self) -> None:
        super().__init__(NAME, __doc__)
        self._real: types.ModuleType | None = None

    def get_plugins(self) -> Any:
        if os.environ.get("PYDANTIC_DISABLE_PLUGINS") in DISABLED:
            return ()
        return self.real().get_plugins()

    def real(self) -> types.ModuleType:
        """pydantic's own loader module, loaded from its file on first use."""
        if self._real is None:
            import importlib.machinery
            import importlib.util

            import pydantic.plugin

            spec = importlib.machinery.PathFinder.find_spec(NAME, pydantic.plugin.__path__)
            if spec is None or spec.loader is None:
                raise ImportError(f"cannot find {NAME}")
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            self._real = module
        return self._real

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.real(), name)


def install() -> None:
    """Put the stand-in in place, unless pydantic's loader is loaded already."""
    sys.modules.setdefault(NAME, DeferredLoader())
