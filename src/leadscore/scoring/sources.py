"""Lead sources read in bounded chunks: a Parquet file or directory, a CSV file, a SQL table or query.

Every source yields pandas DataFrames of at most ``chunk_size`` rows holding only the columns the
scorer needs, so memory stays flat however large the lead database is.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import sqlalchemy as sa

from leadscore.errors import DataValidationError, LeadscoreError
from leadscore.scoring.sql import check_identifier, check_read_only_query, create_engine, describe, is_database_url


def _one_line(err: BaseException) -> str:
    """An exception's message on one line (Arrow and drivers sometimes span several)."""
    return " ".join(str(err).split())


def _require(available: list[str], needed: list[str], *, source: str) -> None:
    missing = [c for c in needed if c not in available]
    if missing:
        raise DataValidationError(f"{source}: missing column(s) {', '.join(missing)} needed by the model")


@dataclass
class ParquetSource:
    """A Parquet file, or a directory of Parquet files read as one dataset."""

    path: Path

    @property
    def description(self) -> str:
        return str(self.path)

    def _dataset(self) -> ds.Dataset:
        try:
            return ds.dataset(self.path, format="parquet")
        except (OSError, ValueError) as err:
            raise DataValidationError(f"{self.path}: could not read as Parquet ({err})") from None

    def count(self) -> int | None:
        try:
            return self._dataset().count_rows()
        except (OSError, ValueError) as err:  # reads every file's footer: the first bad file is named
            raise DataValidationError(f"{self.path}: could not read as Parquet ({_one_line(err)})") from None

    def iter_chunks(self, columns: list[str], chunk_size: int) -> Iterator[pd.DataFrame]:
        dataset = self._dataset()
        _require(dataset.schema.names, columns, source=self.description)
        # File by file with ParquetFile.iter_batches: it decodes pages batch by batch, so memory is
        # bounded by chunk_size even when a file is one huge row group (a dataset scan decodes whole
        # row groups and held ~2 of them: 1.2 GiB for 1M-row row groups).
        for path in dataset.files:
            try:
                parquet = pq.ParquetFile(path)
                for batch in parquet.iter_batches(batch_size=chunk_size, columns=columns):
                    if batch.num_rows:
                        yield batch.to_pandas()
            except (OSError, ValueError) as err:
                raise DataValidationError(f"{path}: could not read as Parquet ({_one_line(err)})") from None


@dataclass
class CsvSource:
    """A CSV file read with pandas in chunks."""

    path: Path
    separator: str = ","
    missing_values: tuple[str, ...] = ()
    # Read as text, never guessed: the id ("0000042" must not become 42) and category columns.
    text_columns: tuple[str, ...] = ()

    @property
    def description(self) -> str:
        return str(self.path)

    def count(self) -> int | None:
        return None  # would need a full pass over the file; the progress bar shows a rate instead

    def iter_chunks(self, columns: list[str], chunk_size: int) -> Iterator[pd.DataFrame]:
        try:
            header = list(pd.read_csv(self.path, sep=self.separator, nrows=0).columns)
            _require(header, columns, source=self.description)
            reader = pd.read_csv(
                self.path,
                sep=self.separator,
                usecols=columns,
                na_values=list(self.missing_values) or None,
                dtype={c: "str" for c in self.text_columns if c in columns} or None,
                chunksize=chunk_size,
                low_memory=False,
            )
            with reader:
                for chunk in reader:
                    yield chunk[columns]
        except (OSError, ValueError, pd.errors.ParserError) as err:
            raise DataValidationError(f"{self.path}: could not read as CSV ({err})") from None


@dataclass
class SqlSource:
    """A database table (``table``) or the rows of a SELECT (``query``), read with a server-side cursor.

    ``query`` is the user's own SQL, run as given if it is one SELECT, on a read-only connection; a
    table name is checked and quoted.
    """

    url: str
    table: str | None = None
    query: str | None = None

    def __post_init__(self) -> None:
        if (self.table is None) == (self.query is None):
            raise LeadscoreError(f"{describe(self.url)}: give exactly one of --table or --query for a database input")
        if self.table is not None:
            check_identifier(self.table, what="--table")
        if self.query is not None:
            check_read_only_query(self.query)
        # Reading never writes: SQLite is opened read-only, PostgreSQL transactions are READ ONLY.
        self._engine = create_engine(self.url, read_only=True)

    @property
    def description(self) -> str:
        what = f"table {self.table}" if self.table else "query"
        return f"{describe(self.url)} ({what})"

    def _reflect(self, table: str) -> sa.Table:
        try:
            return sa.Table(table, sa.MetaData(), autoload_with=self._engine)
        except sa.exc.NoSuchTableError:
            raise DataValidationError(f"{self.description}: no such table") from None
        except sa.exc.OperationalError as err:
            raise LeadscoreError(f"{describe(self.url)}: cannot connect or read ({err.orig})") from None

    def count(self) -> int | None:
        if self.table is None:
            return None  # counting an arbitrary query could cost as much as running it
        table = self._reflect(self.table)
        with self._engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()

    def iter_chunks(self, columns: list[str], chunk_size: int) -> Iterator[pd.DataFrame]:
        statement: sa.Executable
        if self.table is not None:
            table = self._reflect(self.table)
            _require([c.name for c in table.columns], columns, source=self.description)
            statement = sa.select(*(table.c[c] for c in columns))
        else:
            assert self.query is not None  # __post_init__: exactly one of table and query
            statement = sa.text(self.query)
        try:
            with self._engine.connect() as conn:
                # stream_results: a server-side cursor on PostgreSQL, so rows arrive chunk by chunk.
                result = conn.execution_options(stream_results=True, yield_per=chunk_size).execute(statement)
                keys = list(result.keys())
                _require(keys, columns, source=self.description)
                for rows in result.partitions(chunk_size):
                    yield pd.DataFrame.from_records(rows, columns=keys)[columns]
        except sa.exc.DBAPIError as err:
            raise LeadscoreError(
                f"{self.description}: the database refused the read ({str(err.orig).strip()})"
            ) from None


def open_source(
    location: str,
    *,
    table: str | None = None,
    query: str | None = None,
    csv_separator: str = ",",
    missing_values: tuple[str, ...] = (),
    text_columns: tuple[str, ...] = (),
):
    """The source for ``location``: a SQLAlchemy URL (+ table or query), a .csv, or Parquet file/dir.

    ``text_columns`` are read from a CSV as text (the lead id, category columns).
    """
    if is_database_url(location):
        return SqlSource(location, table=table, query=query)
    if table is not None or query is not None:
        raise LeadscoreError(f"{location}: --table/--query need a database URL as --input (e.g. sqlite:///leads.db)")
    path = Path(location)
    if not path.exists():
        raise DataValidationError(f"{path}: input not found")
    if path.is_dir() or path.suffix.lower() == ".parquet":
        return ParquetSource(path)
    if path.suffix.lower() == ".csv":
        return CsvSource(path, separator=csv_separator, missing_values=missing_values, text_columns=tuple(text_columns))
    raise DataValidationError(
        f"{path}: expected a .csv or .parquet file, a directory of Parquet files, or a database URL"
    )
