"""Atomic sinks for scored leads: a Parquet or CSV file, a directory of Parquet files, a SQL table.

A sink is a context manager: ``write`` chunks inside the ``with`` block; the output appears only
when the block ends without an error. Files and directories are built under a temporary name
beside the target and renamed over it (:mod:`leadscore.atomic`: permissions kept, temporaries
removed on errors and SIGTERM, only leadscore's own directories replaced); a table is written in
one transaction. An interrupted run (an exception, Ctrl-C, SIGTERM) leaves whatever was there
before untouched.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from leadscore.atomic import atomic_directory, atomic_file, check_directory_target, check_file_target, marker_content
from leadscore.errors import DataValidationError, LeadscoreError, OutputError
from leadscore.scoring.sql import check_identifier, create_engine, describe, is_database_url, same_database

MODES = ("replace", "append", "upsert")


# -- files ------------------------------------------------------------------------------------------
class _FileSink:
    """Write to a temporary file beside ``path`` (:func:`leadscore.atomic.atomic_file`), renamed over it on success."""

    def __init__(self, path: Path):
        check_file_target(path)
        self.path = path
        self.rows = 0

    @property
    def description(self) -> str:
        return str(self.path)

    def __enter__(self):
        self._stack = contextlib.ExitStack()
        self._tmp = self._stack.enter_context(atomic_file(self.path))
        return self

    def write(self, frame: pd.DataFrame) -> None:
        try:
            self._write(frame)
        except OSError as err:
            raise OutputError(f"{self.path}: could not write ({err.strerror or err})") from None
        self.rows += len(frame)

    def _write(self, frame: pd.DataFrame) -> None:
        raise NotImplementedError

    def _close(self) -> None:
        raise NotImplementedError

    def __exit__(self, exc_type, exc, tb) -> bool | None:
        try:
            self._close()  # always: the file must be closed before it is renamed or removed
        except Exception as err:
            if exc_type is None:  # a failed close means an incomplete file: the temporary goes
                error = (
                    OutputError(f"{self.path}: could not finish writing ({err})") if isinstance(err, OSError) else err
                )
                self._stack.__exit__(type(error), error, error.__traceback__)
                raise error from None
        return self._stack.__exit__(exc_type, exc, tb)


class ParquetFileSink(_FileSink):
    """One Parquet file, streamed through a ``ParquetWriter`` (one row group per chunk)."""

    _writer: pq.ParquetWriter | None = None

    def _write(self, frame: pd.DataFrame) -> None:
        if self._writer is None:
            table = pa.Table.from_pandas(frame, preserve_index=False)
            self._writer = pq.ParquetWriter(self._tmp, table.schema)
        else:
            try:
                table = pa.Table.from_pandas(frame, schema=self._writer.schema, preserve_index=False)
            except (pa.ArrowInvalid, pa.ArrowTypeError) as err:
                raise DataValidationError(
                    f"{self.path}: a later chunk has other column types than the first ({err})"
                ) from None
        self._writer.write_table(table)

    def _close(self) -> None:
        if self._writer is not None:
            self._writer.close()


class CsvFileSink(_FileSink):
    """One CSV file; the header is written with the first chunk."""

    def _write(self, frame: pd.DataFrame) -> None:
        frame.to_csv(self._tmp, mode="w" if self.rows == 0 else "a", header=self.rows == 0, index=False)

    def _close(self) -> None:
        pass


class ParquetDirSink:
    """A directory of Parquet files (``part-00000.parquet``, ...), one per chunk, built aside then swapped in.

    Only a new or empty directory, or one leadscore wrote (it carries the marker file), is replaced.
    """

    def __init__(self, path: Path):
        check_directory_target(path)
        self.path = path
        self.rows = 0
        self._parts = 0

    @property
    def description(self) -> str:
        return f"{self.path}/"

    def __enter__(self):
        self._stack = contextlib.ExitStack()
        self.tmp_dir = self._stack.enter_context(
            atomic_directory(self.path, marker=marker_content(content="lead scores, one Parquet file per chunk"))
        )
        return self

    def write(self, frame: pd.DataFrame) -> None:
        try:
            frame.to_parquet(self.tmp_dir / f"part-{self._parts:05d}.parquet", index=False)
        except OSError as err:
            raise OutputError(f"{self.path}: could not write ({err.strerror or err})") from None
        self._parts += 1
        self.rows += len(frame)

    def __exit__(self, exc_type, exc, tb) -> bool | None:
        return self._stack.__exit__(exc_type, exc, tb)


# -- SQL ----------------------------------------------------------------------------------------
def sql_type(values: pd.Series) -> sa.types.TypeEngine:
    """The column type a score column is stored as."""
    if pd.api.types.is_bool_dtype(values):
        return sa.Boolean()
    if pd.api.types.is_integer_dtype(values):
        return sa.BigInteger()
    if pd.api.types.is_float_dtype(values):
        return sa.Double()
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return sa.DateTime(timezone=True)
    if pd.api.types.is_datetime64_dtype(values):
        return sa.DateTime()
    return sa.Text()


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows as dicts of plain Python values, missing values as None (NULL)."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


class SqlTableSink:
    """A database table written in one transaction.

    Modes:
      - ``replace``: rows go to a new table, which replaces the old one (drop + rename) in the same
        transaction; the table is created with a primary key on the id column.
      - ``append``: rows are inserted into the table (created without a key if missing): a history.
      - ``upsert``: insert, or update the row with the same id (``INSERT ... ON CONFLICT (id) DO
        UPDATE``, SQLite and PostgreSQL); the table needs a primary key or unique constraint on the id.
    """

    def __init__(self, url: str, *, table: str, mode: str, id_column: str):
        if mode not in MODES:
            raise LeadscoreError(f"--mode: expected one of {', '.join(MODES)}, got {mode!r}")
        self.url, self.table, self.mode = url, check_identifier(table, what="--output-table"), mode
        self.id_column = check_identifier(id_column, what="id column")
        self.rows = 0
        self._target: sa.Table | None = None

    @property
    def description(self) -> str:
        return f"{describe(self.url)} (table {self.table})"

    def __enter__(self):
        self._engine = create_engine(self.url, transactional_ddl=True)
        if self.mode == "upsert" and self._engine.dialect.name not in ("sqlite", "postgresql"):
            raise LeadscoreError(
                f"{self.description}: --mode upsert supports SQLite and PostgreSQL, not {self._engine.dialect.name}"
            )
        try:
            self._conn = self._engine.connect()
            self._transaction = self._conn.begin()
        except sa.exc.DBAPIError as err:
            raise LeadscoreError(f"{describe(self.url)}: cannot connect ({str(err.orig).strip()})") from None
        return self

    def _existing(self) -> sa.Table | None:
        if not sa.inspect(self._conn).has_table(self.table):
            return None
        return sa.Table(self.table, sa.MetaData(), autoload_with=self._conn)

    def _new_table(self, name: str, frame: pd.DataFrame, *, keyed: bool) -> sa.Table:
        for column in frame.columns:
            check_identifier(column, what="output column")
        columns = [sa.Column(c, sql_type(frame[c]), nullable=c != self.id_column or not keyed) for c in frame.columns]
        constraints = [sa.PrimaryKeyConstraint(self.id_column, name=f"pk_{name}")] if keyed else []
        table = sa.Table(name, sa.MetaData(), *columns, *constraints)
        table.create(self._conn)
        return table

    def _check_compatible(self, table: sa.Table, frame: pd.DataFrame) -> None:
        missing = [c for c in frame.columns if c not in table.c]
        if missing:
            raise DataValidationError(
                f"{self.description}: the existing table lacks column(s) {', '.join(missing)} "
                "(use --mode replace to recreate it)"
            )
        if self.mode == "upsert" and not self._id_is_unique(table):
            raise DataValidationError(
                f"{self.description}: --mode upsert needs a primary key or unique constraint on {self.id_column} "
                "(use --mode replace once to create the table with one)"
            )

    def _id_is_unique(self, table: sa.Table) -> bool:
        inspector = sa.inspect(self._conn)
        # Reflected unique constraints/indexes may list None for expression columns, hence str | None.
        primary_key = inspector.get_pk_constraint(table.name).get("constrained_columns") or []
        keys: list[Sequence[str | None]] = [primary_key]
        keys += [u["column_names"] for u in inspector.get_unique_constraints(table.name)]
        keys += [i["column_names"] for i in inspector.get_indexes(table.name) if i.get("unique")]
        return [self.id_column] in [list(k) for k in keys]

    def _prepare(self, frame: pd.DataFrame) -> sa.Table:
        if self.mode == "replace":
            self._staging = f"_leadscore_tmp_{uuid.uuid4().hex[:8]}"
            self._target = self._new_table(self._staging, frame, keyed=True)
        else:
            existing = self._existing()
            if existing is None:
                self._target = self._new_table(self.table, frame, keyed=self.mode == "upsert")
            else:
                self._check_compatible(existing, frame)
                self._target = existing
        return self._target

    def write(self, frame: pd.DataFrame) -> None:
        try:
            target = self._target if self._target is not None else self._prepare(frame)
            if frame.empty:
                return
            statement: sa.Executable
            if self.mode == "upsert":
                dialect_insert = postgresql.insert if self._engine.dialect.name == "postgresql" else sqlite.insert
                upsert = dialect_insert(target)
                statement = upsert.on_conflict_do_update(
                    index_elements=[self.id_column],
                    set_={c: upsert.excluded[c] for c in frame.columns if c != self.id_column},
                )
            else:
                statement = target.insert()
            self._conn.execute(statement, _records(frame))
        except sa.exc.IntegrityError as err:
            raise DataValidationError(
                f"{self.description}: {self.id_column} must be unique per lead "
                f"({str(err.orig).strip().splitlines()[0]})"
            ) from None
        except sa.exc.DBAPIError as err:
            raise LeadscoreError(
                f"{self.description}: the database refused the write ({str(err.orig).strip().splitlines()[0]})"
            ) from None
        self.rows += len(frame)

    def _swap_in_staging(self) -> None:
        quote = self._conn.dialect.identifier_preparer.quote
        sa.Table(self.table, sa.MetaData()).drop(self._conn, checkfirst=True)
        self._conn.exec_driver_sql(f"ALTER TABLE {quote(self._staging)} RENAME TO {quote(self.table)}")
        if self._engine.dialect.name == "postgresql":
            # PostgreSQL names the key's index after the constraint; rename it so the next replace can reuse names.
            self._conn.exec_driver_sql(
                f"ALTER TABLE {quote(self.table)} "
                f"RENAME CONSTRAINT {quote('pk_' + self._staging)} TO {quote('pk_' + self.table)}"
            )

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                if self.mode == "replace" and self._target is not None:
                    self._swap_in_staging()
                self._transaction.commit()
            else:
                self._transaction.rollback()
        except sa.exc.DBAPIError as err:
            self._transaction.rollback()
            raise LeadscoreError(
                f"{self.description}: could not commit ({str(err.orig).strip().splitlines()[0]})"
            ) from None
        finally:
            self._conn.close()
            self._engine.dispose()


def check_output_is_not_input(
    *, input: str, output: str, input_table: str | None = None, output_table: str | None = None
) -> None:
    """Raise :class:`OutputError` if writing ``output`` would replace or change ``input``.

    Files: the same file (symlinks and hard links resolved), an output directory that contains the
    input, or an output inside an input directory (it would join the input dataset). Databases: the
    same table of the same database.
    """
    if is_database_url(input) or is_database_url(output):
        if (
            is_database_url(input)
            and is_database_url(output)
            and input_table
            and output_table
            and input_table.lower() == output_table.lower()
            and same_database(input, output)
        ):
            raise OutputError(
                f"{describe(output)} (table {output_table}): "
                "--output-table is the --table being read; give another table"
            )
        return
    source, target = Path(input).resolve(), Path(output).resolve()
    same = source == target
    with contextlib.suppress(OSError):
        same = same or (source.exists() and target.exists() and os.path.samefile(source, target))
    if same:
        raise OutputError(f"{output}: is the --input itself ({input}); writing it would replace the input")
    if source.is_relative_to(target):
        raise OutputError(f"{output}: contains the --input {input}; replacing it would delete the input")
    if source.is_dir() and target.is_relative_to(source):
        raise OutputError(f"{output}: is inside the --input directory {input}; it would change the input")


def open_sink(location: str, *, table: str | None = None, mode: str = "replace", id_column: str = "lead_id"):
    """The sink for ``location``: a database URL + table, a .parquet/.csv file, or a Parquet directory."""
    if is_database_url(location):
        if not table:
            raise LeadscoreError(f"{describe(location)}: a database output needs --output-table")
        return SqlTableSink(location, table=table, mode=mode, id_column=id_column)
    if table:
        raise LeadscoreError(f"{location}: --output-table needs a database URL as --output (e.g. sqlite:///scores.db)")
    if mode != "replace":
        raise LeadscoreError(f"{location}: --mode {mode} needs a database table output; files are always replaced")
    path = Path(location)
    suffix = path.suffix.lower()
    if suffix == ".parquet" and not path.is_dir():
        return ParquetFileSink(path)
    if suffix == ".csv":
        return CsvFileSink(path)
    if suffix == "" or path.is_dir():
        return ParquetDirSink(path)
    raise DataValidationError(f"{path}: expected a .parquet or .csv output file, a directory, or a database URL")
