"""Weighting: methods registered by name, and weight diagnostics.

``METHODS`` maps a method name (as written in a crosswalk's weighting section) to its
function; built-ins are registered exactly as an extension would be.
"""

from __future__ import annotations

from collections.abc import Callable

from harmonise.weight.diagnostics import WeightSummary, summarise_weights
from harmonise.weight.rake import Margin, RakeResult, rake

METHODS: dict[str, Callable[..., RakeResult]] = {"rake": rake}

__all__ = [
    "METHODS",
    "Margin",
    "RakeResult",
    "WeightSummary",
    "rake",
    "summarise_weights",
]
