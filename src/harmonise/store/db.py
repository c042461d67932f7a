"""The workspace store: each run's publishable tables and metadata in one database.

SQLite (a single file, ``reports/harmonise.sqlite`` by default) for one analyst;
PostgreSQL by URL (``postgresql+psycopg://user@host/db``) for a shared deployment. The
same SQLAlchemy Core code serves both. What is stored is :class:`ReportData`: estimates,
comparisons, weighting diagnostics, margins, the recode audit, provenance and survey /
crosswalk / schema metadata — never respondent-level data, never identifying values.

Tables::

    harmonise_store(key, value)                   format_version
    runs(id, run_at, saved_at, tool_version, schema_ref, synthetic, surveys, meta)
    run_tables(run_id, name, position, columns, n_rows)
    run_rows(run_id, table_name, row_no, data)    one JSON object per table row

A run is saved in one transaction, so a half-saved run is never visible.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import sqlalchemy as sa

from harmonise.errors import StoreError
from harmonise.report.data import ReportData
from harmonise.store.codec import (
    FORMAT_VERSION,
    meta_json,
    read_table,
    report_data_from,
    table_columns,
    table_rows,
)

METADATA = sa.MetaData()
STORE_INFO = sa.Table(
    "harmonise_store", METADATA,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
RUNS = sa.Table(
    "runs", METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_at", sa.String(40), nullable=False),
    sa.Column("saved_at", sa.String(40), nullable=False),
    sa.Column("tool_version", sa.String(40), nullable=False),
    sa.Column("schema_ref", sa.String(80), nullable=False),
    sa.Column("synthetic", sa.Boolean, nullable=False),
    sa.Column("surveys", sa.Text, nullable=False),  # JSON list of crosswalk refs
    sa.Column("meta", sa.Text, nullable=False),  # JSON, see store.codec.meta_json
)
RUN_TABLES = sa.Table(
    "run_tables", METADATA,
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("columns", sa.Text, nullable=False),  # JSON [[name, dtype], …]
    sa.Column("n_rows", sa.Integer, nullable=False),
)
RUN_ROWS = sa.Table(
    "run_rows", METADATA,
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("table_name", sa.String(64), primary_key=True),
    sa.Column("row_no", sa.Integer, primary_key=True),
    sa.Column("data", sa.Text, nullable=False),  # JSON object keyed by column
)


@dataclass(frozen=True)
class RunInfo:
    """One stored run, as listed by ``harmonise report --list``."""

    id: int
    run_at: str
    saved_at: str
    tool_version: str
    schema_ref: str
    synthetic: bool
    surveys: tuple[str, ...]


def store_url(location: str | Path) -> str:
    """A SQLAlchemy URL from a URL or a plain file path (a path means SQLite)."""
    text = str(location)
    if "://" in text:
        return text
    return f"sqlite:///{Path(text).expanduser().resolve()}"


def _redacted(url: str) -> str:
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return url


def delete_runs(conn: sa.Connection, run_ids: Iterable[int]) -> int:
    """Delete stored runs inside the caller's transaction (rows, tables, then the run
    record, so it works with or without foreign-key cascades); how many runs were there."""
    ids = sorted({int(i) for i in run_ids})
    if not ids:
        return 0
    conn.execute(RUN_ROWS.delete().where(RUN_ROWS.c.run_id.in_(ids)))
    conn.execute(RUN_TABLES.delete().where(RUN_TABLES.c.run_id.in_(ids)))
    return int(conn.execute(RUNS.delete().where(RUNS.c.id.in_(ids))).rowcount)


class Store:
    """A workspace database. Use as a context manager, or call :meth:`close`."""

    def __init__(self, location: str | Path, *, create: bool = True) -> None:
        self.url = store_url(location)
        shown = _redacted(self.url)
        try:
            parsed = sa.make_url(self.url)
        except sa.exc.ArgumentError as exc:
            raise StoreError(f"--store {shown!r} is neither a file path nor a database URL "
                             "(e.g. sqlite:///reports/harmonise.sqlite or "
                             "postgresql+psycopg://user@host/db)") from exc
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "",
                                                                             ":memory:"):
            path = Path(parsed.database)
            if not create and not path.exists():
                raise StoreError(f"no workspace store at {path}; run 'harmonise run' first "
                                 "or pass --store with the right path or URL")
            path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.engine = sa.create_engine(self.url)
        except (ModuleNotFoundError, sa.exc.NoSuchModuleError) as exc:
            raise StoreError(f"cannot open store {shown}: {exc}; for PostgreSQL install "
                             "the driver with: pip install 'psycopg[binary]'") from exc
        try:
            METADATA.create_all(self.engine)
            self._check_format()
        except sa.exc.SQLAlchemyError as exc:
            self.engine.dispose()
            raise StoreError(f"cannot open store {shown}: {exc.__class__.__name__}: "
                             f"{exc.orig if hasattr(exc, 'orig') else exc}") from exc

    def _check_format(self) -> None:
        with self.engine.begin() as conn:
            found = conn.execute(
                sa.select(STORE_INFO.c.value).where(STORE_INFO.c.key == "format_version")
            ).scalar()
            if found is None:
                conn.execute(STORE_INFO.insert().values(key="format_version",
                                                        value=str(FORMAT_VERSION)))
            elif int(found) > FORMAT_VERSION:
                raise StoreError(
                    f"store {_redacted(self.url)} has format {found}, newer than this "
                    f"harmonise understands ({FORMAT_VERSION}); upgrade harmonise"
                )

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def save(self, data: ReportData, *,
             within: Callable[[sa.Connection, int], None] | None = None) -> int:
        """Store a run in one transaction; return its id. ``within(conn, run_id)`` is
        called inside that transaction before it commits (the web worker records the run on
        its job there); if it raises, nothing is saved."""
        prov = data.provenance
        schema = prov.get("schema", {})
        try:
            with self.engine.begin() as conn:
                inserted = conn.execute(RUNS.insert().values(
                    run_at=str(prov.get("run_at", "")),
                    saved_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                    tool_version=str(prov.get("tool_version", "")),
                    schema_ref=str(schema.get("ref", "")) if isinstance(schema, dict) else "",
                    synthetic=data.synthetic,
                    surveys=json.dumps([s.ref for s in data.surveys]),
                    meta=meta_json(data),
                )).inserted_primary_key
                assert inserted is not None
                run_id = int(inserted[0])
                for position, (name, frame) in enumerate(data.tables.items()):
                    conn.execute(RUN_TABLES.insert().values(
                        run_id=run_id, name=name, position=position,
                        columns=json.dumps(table_columns(frame)), n_rows=len(frame),
                    ))
                    rows = [{"run_id": run_id, "table_name": name, "row_no": i, "data": d}
                            for i, d in enumerate(table_rows(frame))]
                    if rows:
                        conn.execute(RUN_ROWS.insert(), rows)
                if within is not None:
                    within(conn, run_id)
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(f"cannot save the run to {_redacted(self.url)}: {exc}; "
                             "nothing was saved") from exc
        return run_id

    def delete(self, run_ids: Iterable[int]) -> int:
        """Delete runs (their rows, tables and record) in one transaction; return how
        many runs were there."""
        try:
            with self.engine.begin() as conn:
                return delete_runs(conn, run_ids)
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(f"cannot delete runs from {_redacted(self.url)}: "
                             f"{exc.__class__.__name__}; nothing was deleted") from exc

    def runs(self) -> list[RunInfo]:
        """Every stored run, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(RUNS).order_by(RUNS.c.id)).mappings().all()
        return [RunInfo(id=r["id"], run_at=r["run_at"], saved_at=r["saved_at"],
                        tool_version=r["tool_version"], schema_ref=r["schema_ref"],
                        synthetic=bool(r["synthetic"]),
                        surveys=tuple(json.loads(r["surveys"]))) for r in rows]

    def resolve(self, run: int | str | None = None) -> int:
        """A run id from an id, ``"latest"`` or None (latest)."""
        ids = [r.id for r in self.runs()]
        if not ids:
            raise StoreError(f"store {_redacted(self.url)} has no runs yet; "
                             "run 'harmonise run' first")
        if run is None or str(run) == "latest":
            return ids[-1]
        try:
            wanted = int(run)
        except ValueError:
            raise StoreError(f"--run {run!r} is not a run id or 'latest'") from None
        if wanted not in ids:
            shown = ", ".join(str(i) for i in ids[-10:])
            raise StoreError(f"store {_redacted(self.url)} has no run {wanted}; "
                             f"stored runs: {shown} (or use --run latest)")
        return wanted

    def load(self, run: int | str | None = None) -> tuple[int, ReportData]:
        """The stored ReportData of a run (latest by default) and its id."""
        run_id = self.resolve(run)
        with self.engine.connect() as conn:
            meta = conn.execute(sa.select(RUNS.c.meta).where(RUNS.c.id == run_id)).scalar_one()
            specs = conn.execute(
                sa.select(RUN_TABLES).where(RUN_TABLES.c.run_id == run_id)
                .order_by(RUN_TABLES.c.position)
            ).mappings().all()
            tables = {}
            for spec in specs:
                rows = conn.execute(
                    sa.select(RUN_ROWS.c.data)
                    .where(RUN_ROWS.c.run_id == run_id, RUN_ROWS.c.table_name == spec["name"])
                    .order_by(RUN_ROWS.c.row_no)
                ).scalars().all()
                if len(rows) != spec["n_rows"]:
                    raise StoreError(f"run {run_id} table {spec['name']} has {len(rows)} "
                                     f"rows stored, expected {spec['n_rows']}; the store "
                                     "is damaged: run 'harmonise run' again")
                tables[str(spec["name"])] = read_table(json.loads(spec["columns"]),
                                                       list(rows))
        try:
            return run_id, report_data_from(meta, tables)
        except (ValueError, KeyError, TypeError) as exc:
            raise StoreError(f"run {run_id} in {_redacted(self.url)} cannot be read by this "
                             f"harmonise ({exc}); run 'harmonise run' again") from exc
