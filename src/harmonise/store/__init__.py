"""The workspace store: runs saved as publishable tables + metadata (SQLite or PostgreSQL).

``DEFAULT_STORE`` is defined here and the rest is loaded on first use, so commands that only
name the default location (``harmonise report --help``) do not import SQLAlchemy.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from harmonise._util.lazy import lazy_getattr
from harmonise.errors import StoreError

if TYPE_CHECKING:
    from harmonise.store.db import RunInfo, Store, store_url

#: Where ``harmonise run`` and ``harmonise report`` keep the workspace by default.
DEFAULT_STORE = Path("reports/harmonise.sqlite")

_LAZY = {"RunInfo": "harmonise.store.db", "Store": "harmonise.store.db",
         "store_url": "harmonise.store.db"}

__all__ = ["DEFAULT_STORE", "RunInfo", "Store", "StoreError", "store_url"]


__getattr__ = lazy_getattr(__name__, _LAZY, globals())
