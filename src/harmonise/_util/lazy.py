"""A package's public names loaded on first use (PEP 562 ``__getattr__``), so importing the
package stays cheap: ``harmonise``, ``harmonise.estimate``, ``harmonise.report`` and
``harmonise.store`` each map their names to the modules that define them."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_getattr(package: str, where: Mapping[str, str],
                 namespace: dict[str, Any]) -> Callable[[str], Any]:
    """The package's ``__getattr__``: ``where`` maps a public name to its module (absolute,
    or relative to ``package`` with a leading dot); the value is imported on first use and
    kept in ``namespace`` (the package's globals) so later lookups are plain."""

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, package), name)
        namespace[name] = value
        return value

    return __getattr__
