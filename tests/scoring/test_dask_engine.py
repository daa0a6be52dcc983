"""Dask engine: a real 2-worker LocalCluster gives exactly the single-process scores."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from leadscore.atomic import MARKER, marker_content
from leadscore.errors import LeadscoreError
from leadscore.scoring.batch import score_batches
from leadscore.scoring.sinks import open_sink
from leadscore.scoring.sources import open_source

pytest.importorskip("dask.distributed", reason="Dask is an optional extra: pip install 'leadscore[dask]'")

WHEN = pd.Timestamp("2026-07-01T02:00:00Z")


# Starts a 2-worker LocalCluster and scores 3,000 leads twice: tens of seconds on a loaded machine.
@pytest.mark.slow
def test_dask_scores_identical_to_single_process(tmp_path, loaded_model, sample_leads):
    from leadscore.scoring.dask_engine import score_with_dask

    leads_dir = tmp_path / "leads"
    leads_dir.mkdir()
    for i, part in enumerate((sample_leads.iloc[:1200], sample_leads.iloc[1200:2000], sample_leads.iloc[2000:])):
        part.to_parquet(leads_dir / f"part-{i}.parquet", index=False)
    single = tmp_path / "single.parquet"
    score_batches(
        model=loaded_model,
        source=open_source(str(leads_dir)),
        sink=open_sink(str(single)),
        chunk_size=1000,
        scored_at=WHEN,
        show_progress=False,
    )

    out = tmp_path / "dask_scores"
    out.mkdir()
    (out / "stale.parquet").write_bytes(b"someone else's")
    with pytest.raises(LeadscoreError, match="dask_scores: an existing directory not written by leadscore"):
        score_with_dask(model=loaded_model, input_path=leads_dir, output_dir=out, scored_at=WHEN)
    (out / MARKER).write_text(json.dumps(marker_content()))  # an earlier run's output: replaced as a whole
    summary = score_with_dask(model=loaded_model, input_path=leads_dir, output_dir=out, scored_at=WHEN)
    assert summary.rows == len(sample_leads)
    assert not (out / "stale.parquet").exists()
    got = pd.read_parquet(out).sort_values("lead_id", ignore_index=True)
    expected = pd.read_parquet(single).sort_values("lead_id", ignore_index=True)
    assert list(got.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(got, expected, check_exact=True, check_dtype=False)


def test_dask_engine_reads_and_writes_parquet_only(tmp_path, loaded_model, sample_leads):
    from leadscore.scoring.dask_engine import score_with_dask

    csv = tmp_path / "leads.csv"
    sample_leads.iloc[:10].to_csv(csv, index=False)
    with pytest.raises(LeadscoreError, match="reads Parquet"):
        score_with_dask(model=loaded_model, input_path=csv, output_dir=tmp_path / "out")
    parquet = tmp_path / "leads.parquet"
    sample_leads.iloc[:10].to_parquet(parquet, index=False)
    with pytest.raises(LeadscoreError, match="writes a directory"):
        score_with_dask(model=loaded_model, input_path=parquet, output_dir=tmp_path / "out.csv")
