"""The workspace store: runs saved as publishable tables + metadata (SQLite or PostgreSQL)."""

from harmonise.errors import StoreError
from harmonise.store.db import DEFAULT_STORE, RunInfo, Store, store_url

__all__ = ["DEFAULT_STORE", "RunInfo", "Store", "StoreError", "store_url"]
