"""File I/O at the edges: atomic writes, tables read with one clear error, file fingerprints."""

from __future__ import annotations

import hashlib
import json
import os

import pandas as pd
import pytest

from leadscore.errors import DataValidationError
from leadscore.io import atomic_path, read_table, sha256_file, write_bytes, write_json, write_table, write_text


def _leftovers(directory) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def test_atomic_path_keeps_the_old_file_and_no_temp_when_the_block_raises(tmp_path):
    target = tmp_path / "scores.csv"
    target.write_text("old\n")
    with pytest.raises(RuntimeError, match="interrupted"), atomic_path(target) as tmp:
        tmp.write_text("half a new file")
        raise RuntimeError("interrupted")
    assert target.read_text() == "old\n"
    assert _leftovers(tmp_path) == []


def test_atomic_path_replaces_on_success_with_readable_permissions(tmp_path):
    target = tmp_path / "deeper" / "report.html"  # parents are created
    with atomic_path(target) as tmp:
        assert tmp.parent == target.parent and tmp != target
        tmp.write_text("new")
    assert target.read_text() == "new"
    umask = os.umask(0)
    os.umask(umask)
    # Not mkstemp's 0600: an output gets the permissions of any new file (e.g. a browser may read it).
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask
    assert _leftovers(target.parent) == []


def test_writers_round_trip_and_leave_no_temp(tmp_path):
    df = pd.DataFrame({"lead_id": ["L1", "L2"], "score": [0.25, 0.75]})
    write_table(df, tmp_path / "t.parquet")
    write_table(df, tmp_path / "t.csv")
    write_json({"auc": 0.8, "names": ["a"]}, tmp_path / "m.json")
    write_text("héllo", tmp_path / "t.txt")
    write_bytes(b"\x89PNG", tmp_path / "f.png")
    pd.testing.assert_frame_equal(read_table(tmp_path / "t.parquet"), df)
    pd.testing.assert_frame_equal(read_table(tmp_path / "t.csv"), df)
    assert json.loads((tmp_path / "m.json").read_text()) == {"auc": 0.8, "names": ["a"]}
    assert (tmp_path / "t.txt").read_text(encoding="utf-8") == "héllo"
    assert (tmp_path / "f.png").read_bytes() == b"\x89PNG"
    assert _leftovers(tmp_path) == []


def test_write_table_refuses_other_suffixes_and_writes_nothing(tmp_path):
    with pytest.raises(DataValidationError, match=r"out\.xlsx.*\.csv or \.parquet"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "out.xlsx")
    assert list(tmp_path.iterdir()) == []


def test_read_table_reads_csv_options(tmp_path):
    (tmp_path / "export.csv").write_text("id;industry\n1;Select\n2;Retail\n")
    df = read_table(tmp_path / "export.csv", csv_separator=";", missing_values=("Select",))
    assert list(df.columns) == ["id", "industry"]
    assert df["industry"].isna().tolist() == [True, False]


def test_read_table_errors_name_the_file(tmp_path):
    with pytest.raises(DataValidationError, match=r"nowhere\.csv: file not found"):
        read_table(tmp_path / "nowhere.csv")
    (tmp_path / "leads.xlsx").write_bytes(b"PK")
    with pytest.raises(DataValidationError, match=r"leads\.xlsx: expected a \.csv or \.parquet file, got '\.xlsx'"):
        read_table(tmp_path / "leads.xlsx")
    (tmp_path / "broken.parquet").write_text("not parquet at all")
    with pytest.raises(DataValidationError, match=r"broken\.parquet: could not read as parquet"):
        read_table(tmp_path / "broken.parquet")


def test_sha256_file_is_the_digest_of_the_bytes_across_blocks(tmp_path):
    data = bytes(range(256)) * 5000  # > 1 MiB: spans two read blocks
    (tmp_path / "a.bin").write_bytes(data)
    (tmp_path / "b.bin").write_bytes(data[:-1] + b"\x00")
    assert sha256_file(tmp_path / "a.bin") == hashlib.sha256(data).hexdigest()
    assert sha256_file(tmp_path / "b.bin") != sha256_file(tmp_path / "a.bin")
    (tmp_path / "empty").write_bytes(b"")
    assert sha256_file(tmp_path / "empty") == hashlib.sha256(b"").hexdigest()
