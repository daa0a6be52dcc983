"""Score history: one row per lead per as-of date, appended by scoring with ``--as-of``.

A history is either a directory of Parquet files (one ``snapshot-<as of>.parquet`` per as-of date,
written by leadscore: it carries leadscore's marker file) or a table in a SQL database (SQLite,
PostgreSQL through SQLAlchemy). Each row holds :data:`HISTORY_COLUMNS`: the lead id (as text), the
as-of time, the model that scored it (name and version/fingerprint), the three calibrated
probabilities, the quadrant, and the lead's strongest TreeSHAP contributions per group as compact
JSON text ``{"source column": log-odds contribution}`` (:mod:`leadscore.models.explain`).

Appending an as-of date that is already there replaces that snapshot, atomically: the Parquet file
is built under a temporary name and renamed over the old one; the SQL delete and inserts run in one
transaction. A reader sees the old snapshot or the new one, never a mix or a half-written one.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import sqlalchemy as sa

from leadscore.atomic import (
    MARKER,
    atomic_file,
    check_directory_target,
    is_leadscore_directory,
    marker_content,
    output_mode,
    sweep_stale,
    temp_sibling,
)
from leadscore.errors import DataValidationError, LeadscoreError, OutputError
from leadscore.features.build import PLACEHOLDERS
from leadscore.models.explain import feature_sources, shap_contributions, source_contributions
from leadscore.scoring.sql import check_identifier, create_engine, describe, is_database_url

HISTORY_COLUMNS = (
    "lead_id",
    "as_of",
    "model_name",
    "model_version",
    "fit_probability",
    "intent_probability",
    "conversion_probability",
    "quadrant",
    "fit_contributions",
    "intent_contributions",
)
CONTRIBUTION_COLUMNS = {"fit": "fit_contributions", "intent": "intent_contributions"}
DEFAULT_TABLE = "score_history"
DEFAULT_TOP_CONTRIBUTIONS = 5
HISTORY_KIND = "score_history"  # in the directory's marker file: this directory is a score history
_SNAPSHOT = re.compile(r"^snapshot-(\d{8}T\d{6})\.parquet$")
SCHEMA = pa.schema(
    [
        ("lead_id", pa.string()),
        ("as_of", pa.timestamp("us")),
        ("model_name", pa.string()),
        ("model_version", pa.string()),
        ("fit_probability", pa.float64()),
        ("intent_probability", pa.float64()),
        ("conversion_probability", pa.float64()),
        ("quadrant", pa.string()),
        ("fit_contributions", pa.string()),
        ("intent_contributions", pa.string()),
    ]
)


# -- as-of dates -------------------------------------------------------------------------------------
def parse_as_of(text: str, *, what: str = "--as-of") -> pd.Timestamp:
    """A date or date-time given by a person, as a timezone-naive UTC timestamp to the second.

    ISO 8601 only (``2026-03-01``, ``2026-03-01T09:30``), so a date is never guessed from loose text
    ("March" would otherwise become March of this year); an aware time is converted to UTC.
    """
    try:
        stamp = pd.Timestamp(datetime.fromisoformat(str(text).strip()))
    except (ValueError, TypeError):
        raise LeadscoreError(
            f"{what}: expected an ISO date such as 2026-03-01 (or 2026-03-01T09:30), got {text!r}"
        ) from None
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return stamp.floor("s").as_unit("us")


def as_of_text(as_of: pd.Timestamp) -> str:
    """``2026-03-01`` at midnight, else ``2026-03-01 09:30:00``: how an as-of is shown to people."""
    return as_of.strftime("%Y-%m-%d") if as_of == as_of.normalize() else as_of.strftime("%Y-%m-%d %H:%M:%S")


def snapshot_name(as_of: pd.Timestamp) -> str:
    """The Parquet file of one as-of in a history directory."""
    return f"snapshot-{as_of.strftime('%Y%m%dT%H%M%S')}.parquet"


# -- the rows of a snapshot --------------------------------------------------------------------------
def top_contributions_json(effects: pd.DataFrame, *, top: int) -> np.ndarray:
    """Per row, the ``top`` largest |contributions| as JSON text ``{"column": 0.1234, ...}`` (biggest first).

    Contributions are rounded to 4 decimals (log-odds): enough to compare snapshots, small to store.
    A group without columns gives ``"{}"``.
    """
    n = len(effects)
    if effects.shape[1] == 0 or top < 1:
        return np.full(n, "{}", dtype=object)
    values = effects.to_numpy(dtype=float)
    k = min(top, values.shape[1])
    order = np.argsort(-np.abs(values), axis=1, kind="stable")[:, :k]
    # Rounded to 4 decimals (log-odds); Arrow formats the numbers (shortest round-trip text) and joins
    # names and numbers per lead in C++: no Python loop per lead.
    chosen = np.round(np.take_along_axis(values, order, axis=1), 4) + 0.0  # + 0.0: no "-0"
    names = pa.array([json.dumps(str(c)) for c in effects.columns], pa.string())
    slots = [
        pc.binary_join_element_wise(
            names.take(pa.array(order[:, j])), pc.cast(pa.array(chosen[:, j]), pa.string()), ": "
        )
        for j in range(k)
    ]
    joined = pc.binary_join_element_wise("{", pc.binary_join_element_wise(*slots, ", "), "}", "")
    return np.asarray(joined.to_numpy(zero_copy_only=False), dtype=object)


def contribution_columns(scorer, raw: pd.DataFrame, *, top: int, source: str = "lead table") -> pd.DataFrame:
    """``fit_contributions`` and ``intent_contributions`` (JSON text) for each row of ``raw`` (positional).

    The same TreeSHAP contributions per source column as the explain command shows (log-odds of the
    uncalibrated model), without the columns it never shows as reasons (found uninformative by the
    leak audit, or an empty group's placeholder).
    """
    featurizer = scorer.featurizer
    X_fit, X_intent = featurizer.transform(raw, source=source, checked=scorer.contract is not None)
    sources = feature_sources(featurizer)
    settings = scorer.extras.get("explain", {})
    hidden = {*settings.get("uninformative", []), *(PLACEHOLDERS[g] for g in featurizer.empty_groups)}
    out = {}
    for group, model, X in (("fit", scorer.fit_model, X_fit), ("intent", scorer.intent_model, X_intent)):
        if group in featurizer.empty_groups or len(X) == 0:
            out[CONTRIBUTION_COLUMNS[group]] = np.full(len(X), "{}", dtype=object)
            continue
        X = X.reset_index(drop=True)
        effects = source_contributions(shap_contributions(model, X), sources)
        effects = effects[[c for c in effects.columns if c not in hidden]]
        out[CONTRIBUTION_COLUMNS[group]] = top_contributions_json(effects, top=top)
    return pd.DataFrame(out)


def snapshot_rows(
    scored: pd.DataFrame,
    contributions: pd.DataFrame,
    *,
    id_column: str,
    as_of: pd.Timestamp,
    model_name: str,
    model_version: str,
) -> pd.DataFrame:
    """The history rows of one scored chunk: :data:`HISTORY_COLUMNS`, positional with ``scored``."""
    n = len(scored)
    return pd.DataFrame(
        {
            "lead_id": scored[id_column].astype(str).to_numpy(),
            "as_of": pd.Series([as_of] * n, dtype="datetime64[us]").to_numpy(),
            "model_name": np.full(n, model_name, dtype=object),
            "model_version": np.full(n, model_version, dtype=object),
            "fit_probability": scored["fit_probability"].to_numpy(dtype=float),
            "intent_probability": scored["intent_probability"].to_numpy(dtype=float),
            "conversion_probability": scored["conversion_probability"].to_numpy(dtype=float),
            "quadrant": scored["quadrant"].astype(str).to_numpy(),
            "fit_contributions": contributions["fit_contributions"].to_numpy(),
            "intent_contributions": contributions["intent_contributions"].to_numpy(),
        }
    )


# -- writers -----------------------------------------------------------------------------------------
class ParquetHistoryWriter:
    """Writes one snapshot into a history directory; it appears only when the ``with`` block succeeds."""

    def __init__(self, path: str | Path, *, as_of: pd.Timestamp):
        self.path, self.as_of, self.rows = Path(path), as_of, 0
        self.description = f"{self.path} (as of {as_of_text(as_of)})"
        self._stack = contextlib.ExitStack()
        self._writer: pq.ParquetWriter | None = None

    def __enter__(self) -> ParquetHistoryWriter:
        name = snapshot_name(self.as_of)
        if self.path.is_dir() and _is_history_directory(self.path):
            tmp = self._stack.enter_context(atomic_file(self.path / name))
        else:
            if self.path.exists() and not (self.path.is_dir() and not any(self.path.iterdir())):
                raise LeadscoreError(
                    f"{self.path}: exists and is not a score history written by leadscore; "
                    "give a new directory (e.g. reports/score_history) or a database URL"
                )
            # A new history appears whole, marker and first snapshot together.
            tmp = self._stack.enter_context(_new_history_directory(self.path, name)) / name
        try:
            self._writer = pq.ParquetWriter(tmp, SCHEMA)
        except (OSError, pa.ArrowException) as err:
            self._stack.close()
            raise LeadscoreError(f"{self.description}: cannot write the snapshot ({err})") from None
        return self

    def write(self, rows: pd.DataFrame) -> None:
        assert self._writer is not None, "write() outside the with block"
        self._writer.write_table(pa.Table.from_pandas(rows[list(HISTORY_COLUMNS)], schema=SCHEMA, preserve_index=False))
        self.rows += len(rows)

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if self._writer is not None:
                self._writer.close()  # an empty snapshot still gets the schema
        finally:
            self._stack.__exit__(exc_type, exc, tb)


@contextlib.contextmanager
def _new_history_directory(path: Path, name: str) -> Iterator[Path]:
    """Yield a temporary directory beside ``path`` (marker written) that becomes the new history.

    On success it is renamed to ``path``. A rename never replaces a non-empty directory, so when
    another writer created the history meanwhile, this snapshot file joins that history instead
    (``os.replace``, atomic): no writer's snapshot is ever lost. On failure nothing is left; a
    temporary of a killed writer is swept by the next write (:func:`leadscore.atomic.sweep_stale`).
    """
    check_directory_target(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        sweep_stale(path)
        tmp = temp_sibling(path)
        tmp.mkdir(mode=0o700)
    except OSError as err:
        raise OutputError(f"{path}: cannot create the history ({err.strerror or err})") from None
    try:
        (tmp / MARKER).write_text(json.dumps(marker_content(kind=HISTORY_KIND), indent=2) + "\n", encoding="utf-8")
        yield tmp
        os.chmod(tmp, output_mode(path, directory=True))
        try:
            os.rename(tmp, path)  # onto a new or empty directory only
        except OSError:
            if not (path.is_dir() and _is_history_directory(path)):
                raise OutputError(
                    f"{path}: appeared while the history was written, and is not a score history"
                ) from None
            os.replace(tmp / name, path / name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _history_table(name: str) -> sa.Table:
    return sa.Table(
        name,
        sa.MetaData(),
        sa.Column("lead_id", sa.String(), nullable=False),
        sa.Column("as_of", sa.DateTime(), nullable=False),
        sa.Column("model_name", sa.String()),
        sa.Column("model_version", sa.String()),
        sa.Column("fit_probability", sa.Float()),
        sa.Column("intent_probability", sa.Float()),
        sa.Column("conversion_probability", sa.Float()),
        sa.Column("quadrant", sa.String()),
        sa.Column("fit_contributions", sa.Text()),
        sa.Column("intent_contributions", sa.Text()),
        # One row per lead per as-of, enforced by the database too.
        sa.PrimaryKeyConstraint("as_of", "lead_id", name=f"pk_{name}"),
    )


class SqlHistoryWriter:
    """Replaces one as-of's rows in a history table in one transaction (created on first use)."""

    def __init__(self, url: str, *, table: str = DEFAULT_TABLE, as_of: pd.Timestamp):
        self.url, self.table, self.as_of, self.rows = url, check_identifier(table, what="--history-table"), as_of, 0
        self.description = f"{describe(url)} (table {table}, as of {as_of_text(as_of)})"

    def __enter__(self) -> SqlHistoryWriter:
        self._engine = create_engine(self.url, transactional_ddl=True)
        try:
            self._conn = self._engine.connect()
            self._transaction = self._conn.begin()
            if sa.inspect(self._conn).has_table(self.table):
                existing = sa.Table(self.table, sa.MetaData(), autoload_with=self._conn)
                missing = [c for c in HISTORY_COLUMNS if c not in existing.c]
                if missing:
                    raise LeadscoreError(
                        f"{describe(self.url)}: table {self.table} is not a score history "
                        f"(no column(s) {', '.join(missing)}); give another --history-table"
                    )
                self._target = existing
                self._conn.execute(existing.delete().where(existing.c.as_of == self.as_of.to_pydatetime()))
            else:
                self._target = _history_table(self.table)
                self._target.create(self._conn)
        except sa.exc.DBAPIError as err:
            self._close(commit=False)
            raise LeadscoreError(f"{describe(self.url)}: cannot write the history ({_first_line(err)})") from None
        except LeadscoreError:
            self._close(commit=False)
            raise
        return self

    def write(self, rows: pd.DataFrame) -> None:
        if rows.empty:
            return
        frame = rows[list(HISTORY_COLUMNS)].astype({"as_of": object})
        frame["as_of"] = self.as_of.to_pydatetime()
        records = [{str(k): v for k, v in r.items()} for r in frame.to_dict(orient="records")]
        try:
            self._conn.execute(self._target.insert(), records)
        except sa.exc.IntegrityError as err:
            raise DataValidationError(
                f"{self.description}: a lead id appears twice in one snapshot ({_first_line(err)})"
            ) from None
        except sa.exc.DBAPIError as err:
            raise LeadscoreError(f"{self.description}: the database refused the write ({_first_line(err)})") from None
        self.rows += len(rows)

    def _close(self, *, commit: bool) -> None:
        try:
            if commit:
                self._transaction.commit()
            else:
                self._transaction.rollback()
        finally:
            self._conn.close()
            self._engine.dispose()

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            self._close(commit=exc_type is None)
        except sa.exc.DBAPIError as err:
            raise LeadscoreError(f"{self.description}: could not commit ({_first_line(err)})") from None


def _first_line(err: sa.exc.DBAPIError) -> str:
    return str(err.orig).strip().splitlines()[0] if str(err.orig).strip() else type(err.orig).__name__


def open_history_writer(location: str, *, as_of: pd.Timestamp, table: str | None = None):
    """The writer for ``location``: a SQLAlchemy URL (table ``table``, default ``score_history``) or a directory."""
    if is_database_url(location):
        return SqlHistoryWriter(location, table=table or DEFAULT_TABLE, as_of=as_of)
    if table:
        raise LeadscoreError(f"{location}: --history-table needs a database URL as --history (e.g. sqlite:///h.db)")
    if Path(location).suffix.lower() in (".parquet", ".csv"):
        raise LeadscoreError(
            f"{location}: a score history is a directory (one Parquet file per as-of) or a database URL, not one file"
        )
    return ParquetHistoryWriter(location, as_of=as_of)


def _is_history_directory(path: Path) -> bool:
    if not is_leadscore_directory(path):
        return False
    try:
        return json.loads((path / MARKER).read_text(encoding="utf-8")).get("kind") == HISTORY_KIND
    except (OSError, ValueError):
        return False


# -- readers -----------------------------------------------------------------------------------------
class ParquetHistory:
    """A history directory, read snapshot by snapshot."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.description = str(self.path)
        if not self.path.exists():
            raise LeadscoreError(f"{self.path}: no score history here (score with --as-of DATE --history {self.path})")
        if not self.path.is_dir() or not _is_history_directory(self.path):
            raise LeadscoreError(
                f"{self.path}: not a score history (expected a directory written by `leadscore score --history`)"
            )
        self._files = {}
        for entry in self.path.iterdir():
            match = _SNAPSHOT.match(entry.name)
            if match:
                self._files[pd.Timestamp(match[1]).as_unit("us")] = entry

    def snapshots(self) -> list[pd.Timestamp]:
        """The as-of times held, oldest first."""
        return sorted(self._files)

    def read(self, as_ofs: Sequence[pd.Timestamp], *, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """The rows of these snapshots (all of :data:`HISTORY_COLUMNS` unless ``columns``)."""
        wanted = list(columns or HISTORY_COLUMNS)
        frames = []
        for as_of in as_ofs:
            try:
                frames.append(pd.read_parquet(self._files[as_of], columns=wanted))
            except (OSError, ValueError, pa.ArrowException) as err:
                raise LeadscoreError(f"{self._files[as_of]}: could not read this snapshot ({err})") from None
        return _typed(pd.concat(frames, ignore_index=True) if frames else _empty(wanted))


class SqlHistory:
    """A history table, read read-only."""

    def __init__(self, url: str, *, table: str = DEFAULT_TABLE):
        self.url, self.table = url, check_identifier(table, what="--history-table")
        self.description = f"{describe(url)} (table {table})"
        engine = create_engine(url, read_only=True)
        try:
            with engine.connect() as conn:
                if not sa.inspect(conn).has_table(table):
                    raise LeadscoreError(f"{self.description}: no score history table here (score with --history)")
                self._table = sa.Table(table, sa.MetaData(), autoload_with=conn)
        except sa.exc.DBAPIError as err:
            raise LeadscoreError(f"{describe(url)}: cannot read the history ({_first_line(err)})") from None
        finally:
            engine.dispose()
        missing = [c for c in HISTORY_COLUMNS if c not in self._table.c]
        if missing:
            raise LeadscoreError(f"{self.description}: not a score history (no column(s) {', '.join(missing)})")

    def _query(self, statement) -> pd.DataFrame:
        engine = create_engine(self.url, read_only=True)
        try:
            with engine.connect() as conn:
                return pd.read_sql(statement, conn)
        except sa.exc.DBAPIError as err:
            raise LeadscoreError(f"{self.description}: cannot read the history ({_first_line(err)})") from None
        finally:
            engine.dispose()

    def snapshots(self) -> list[pd.Timestamp]:
        """The as-of times held, oldest first."""
        frame = self._query(sa.select(self._table.c.as_of).distinct().order_by(self._table.c.as_of))
        return [pd.Timestamp(v).as_unit("us") for v in pd.to_datetime(frame["as_of"])]

    def read(self, as_ofs: Sequence[pd.Timestamp], *, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """The rows of these snapshots (all of :data:`HISTORY_COLUMNS` unless ``columns``)."""
        wanted = list(columns or HISTORY_COLUMNS)
        if not as_ofs:
            return _typed(_empty(wanted))
        c = self._table.c
        statement = sa.select(*(c[name] for name in wanted)).where(c.as_of.in_([a.to_pydatetime() for a in as_ofs]))
        return _typed(self._query(statement))


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """The same types from either store: text ids, naive datetime as-of, float probabilities."""
    if "lead_id" in frame:
        # Plain Python strings: pandas' Arrow-backed "str" makes isin/loc on 1M ids ~50x slower.
        frame["lead_id"] = frame["lead_id"].astype(str).astype(object)
    if "as_of" in frame:
        frame["as_of"] = pd.to_datetime(frame["as_of"]).astype("datetime64[us]")
    for column in ("fit_probability", "intent_probability", "conversion_probability"):
        if column in frame:
            frame[column] = frame[column].astype(float)
    return frame


def open_history(location: str, *, table: str | None = None) -> ParquetHistory | SqlHistory:
    """A history to read: a SQLAlchemy URL (table ``table``, default ``score_history``) or a directory."""
    if is_database_url(location):
        return SqlHistory(location, table=table or DEFAULT_TABLE)
    if table:
        raise LeadscoreError(f"{location}: --history-table needs a database URL as --history (e.g. sqlite:///h.db)")
    return ParquetHistory(location)
