"""Reading and writing files at the pipeline's edges.

Every writer goes through a temporary file in the target's directory and an atomic ``os.replace``,
so an interrupted run never leaves a half-written output behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from leadscore.atomic import atomic_file
from leadscore.errors import DataValidationError

TABLE_SUFFIXES = (".parquet", ".csv")


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it over ``path`` only if the block succeeds.

    See :func:`leadscore.atomic.atomic_file`: a new file gets the umask's mode, a replaced one keeps
    its own; the temporary is removed on errors and SIGTERM, and stale ones are swept.
    """
    with atomic_file(path) as tmp:
        yield tmp


def read_table(path: str | Path, *, csv_separator: str = ",", missing_values: tuple[str, ...] = ()) -> pd.DataFrame:
    """Read a CSV or Parquet table, raising one clear error when it is missing or unreadable."""
    path = Path(path)
    if not path.exists():
        raise DataValidationError(f"{path}: file not found")
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet" or path.is_dir():
            return pd.read_parquet(path)
        if suffix == ".csv":
            return pd.read_csv(
                path,
                sep=csv_separator,
                na_values=list(missing_values) or None,
                low_memory=False,
            )
    except (OSError, ValueError, pd.errors.ParserError) as err:
        raise DataValidationError(f"{path}: could not read as {suffix[1:] or 'parquet'} ({err})") from None
    raise DataValidationError(f"{path}: expected a .csv or .parquet file, got {suffix or 'no suffix'!r}")


def write_table(df: pd.DataFrame, path: str | Path) -> None:
    """Write ``df`` to ``path`` (.parquet or .csv) atomically."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise DataValidationError(f"{path}: expected a .csv or .parquet output path")
    with atomic_path(path) as tmp:
        if suffix == ".parquet":
            df.to_parquet(tmp, index=False)
        else:
            df.to_csv(tmp, index=False)


def write_json(obj: Any, path: str | Path) -> None:
    """Write ``obj`` as indented JSON atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=False) + "\n")


def write_text(text: str, path: str | Path) -> None:
    """Write ``text`` (UTF-8) atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_bytes(data: bytes, path: str | Path) -> None:
    """Write ``data`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def sha256_file(path: str | Path) -> str:
    """sha256 of a file's bytes, read in 1 MiB blocks: identifies exactly which data or model was used."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
