"""Atomic sinks: files and tables appear whole or not at all; replace, append and upsert on real databases."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

from leadscore.atomic import MARKER
from leadscore.errors import DataValidationError, LeadscoreError
from leadscore.scoring.sinks import CsvFileSink, ParquetDirSink, ParquetFileSink, SqlTableSink, open_sink


def scores(ids, p, when="2026-06-30T00:00:00Z"):
    return pd.DataFrame(
        {
            "lead_id": ids,
            "conversion_probability": p,
            "quadrant": ["high_fit_high_intent"] * len(ids),
            "bant_criteria_met": [3] * len(ids),
            "bant_qualified": [True] * len(ids),
            "scored_at": pd.Series([pd.Timestamp(when)] * len(ids), dtype="datetime64[us, UTC]"),
        }
    )


class Boom(RuntimeError):
    pass


@pytest.mark.parametrize(
    "name, sink_class, reader",
    [("out.parquet", ParquetFileSink, pd.read_parquet), ("out.csv", CsvFileSink, pd.read_csv)],
)
def test_file_sink_writes_all_chunks_and_survives_an_interruption(tmp_path, name, sink_class, reader):
    path = tmp_path / name
    sink = open_sink(str(path))
    assert isinstance(sink, sink_class)
    with sink:
        sink.write(scores(["a", "b"], [0.1, 0.2]))
        sink.write(scores(["c"], [0.3]))
    first = reader(path)
    assert first["lead_id"].tolist() == ["a", "b", "c"]
    assert first["conversion_probability"].tolist() == [0.1, 0.2, 0.3]

    with pytest.raises(Boom), open_sink(str(path)) as again:
        again.write(scores(["x"], [0.9]))
        raise Boom
    pd.testing.assert_frame_equal(reader(path), first)
    assert [p.name for p in tmp_path.iterdir()] == [name], "no temp file left behind"


def test_parquet_dir_sink_replaces_the_whole_directory_or_nothing(tmp_path):
    out = tmp_path / "scores"
    with open_sink(str(out)) as sink:
        assert isinstance(sink, ParquetDirSink)
        sink.write(scores(["a", "b"], [0.1, 0.2]))
        sink.write(scores(["c"], [0.3]))
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "part-00000.parquet", "part-00001.parquet"]
    with pytest.raises(Boom), open_sink(str(out)) as sink:
        sink.write(scores(["x"], [0.9]))
        raise Boom
    assert pd.read_parquet(out)["lead_id"].tolist() == ["a", "b", "c"]
    with open_sink(str(out)) as sink:
        sink.write(scores(["z"], [0.5]))
    assert pd.read_parquet(out)["lead_id"].tolist() == ["z"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scores"]


def test_file_sink_rejects_table_modes(tmp_path):
    with pytest.raises(LeadscoreError, match="--mode upsert needs a database table"):
        open_sink(str(tmp_path / "out.parquet"), mode="upsert")
    with pytest.raises(LeadscoreError, match="needs a database URL"):
        open_sink(str(tmp_path / "out.parquet"), table="scores")
    with pytest.raises(LeadscoreError, match="needs --output-table"):
        open_sink("sqlite:///x.db")


def read_table(url, table="scores"):
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return pd.read_sql(
                sa.select(sa.table(table, sa.column("lead_id"), sa.column("conversion_probability"))).order_by(
                    sa.column("lead_id")
                ),
                conn,
            )
    finally:
        engine.dispose()


def write(url, mode, *frames, table="scores"):
    with SqlTableSink(url, table=table, mode=mode, id_column="lead_id") as sink:
        for frame in frames:
            sink.write(frame)
    return sink.rows


def test_sql_replace_is_rerunnable_and_atomic(db_url):
    assert write(db_url, "replace", scores(["a", "b"], [0.1, 0.2]), scores(["c"], [0.3])) == 3
    first = read_table(db_url)
    assert first.to_dict("list") == {"lead_id": ["a", "b", "c"], "conversion_probability": [0.1, 0.2, 0.3]}
    # Rerun: same rows, no leftovers (the staging table was renamed into place, its key renamed too).
    write(db_url, "replace", scores(["a", "b"], [0.1, 0.2]), scores(["c"], [0.3]))
    pd.testing.assert_frame_equal(read_table(db_url), first)
    # Interrupted after one chunk: the old table is untouched and no staging table remains.
    with pytest.raises(Boom), SqlTableSink(db_url, table="scores", mode="replace", id_column="lead_id") as sink:
        sink.write(scores(["x"], [0.9]))
        raise Boom
    pd.testing.assert_frame_equal(read_table(db_url), first)
    engine = sa.create_engine(db_url)
    assert sa.inspect(engine).get_table_names() == ["scores"]
    assert sa.inspect(engine).get_pk_constraint("scores")["constrained_columns"] == ["lead_id"]
    engine.dispose()


def test_sql_upsert_updates_existing_and_inserts_new(db_url):
    write(db_url, "upsert", scores(["a", "b"], [0.1, 0.2]))
    write(db_url, "upsert", scores(["b", "c"], [0.5, 0.6], when="2026-07-01T00:00:00Z"))
    assert read_table(db_url).to_dict("list") == {"lead_id": ["a", "b", "c"], "conversion_probability": [0.1, 0.5, 0.6]}


def test_sql_append_keeps_history(db_url):
    write(db_url, "append", scores(["a"], [0.1]))
    write(db_url, "append", scores(["a"], [0.2]))
    assert read_table(db_url)["conversion_probability"].tolist() == [0.1, 0.2]
    with pytest.raises(DataValidationError, match="needs a primary key or unique constraint on lead_id"):
        write(db_url, "upsert", scores(["a"], [0.3]))


def test_sql_errors_are_clear(db_url):
    with pytest.raises(DataValidationError, match="lead_id must be unique"):
        write(db_url, "replace", scores(["a", "a"], [0.1, 0.2]))
    write(db_url, "replace", scores(["a"], [0.1]))
    wider = scores(["b"], [0.2]).assign(reason_1="demo requested")
    with pytest.raises(DataValidationError, match=r"lacks column.*reason_1.*--mode replace"):
        write(db_url, "append", wider)
    with pytest.raises(LeadscoreError, match="not a valid identifier"):
        SqlTableSink(db_url, table='scores"; DROP TABLE scores; --', mode="replace", id_column="lead_id")
    with pytest.raises(LeadscoreError, match="--mode: expected one of"):
        SqlTableSink(db_url, table="scores", mode="merge", id_column="lead_id")
    assert read_table(db_url)["lead_id"].tolist() == ["a"]
