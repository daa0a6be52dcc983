"""Score a Parquet dataset on a Dask cluster: ``read_parquet(...).map_partitions(score_frame)``.

Each partition runs the same :func:`leadscore.scoring.batch.score_frame` as the single-process
engine, so scores are identical; output is a directory of Parquet files, built beside the target
and swapped in only when every partition succeeded.

The input contract is checked first, over the whole input: each partition is checked on a worker,
the checks are merged in partition order on the client (counts, first examples and id hashes, so
duplicates across partitions are found), and a refusal stops the run before anything is written.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.dataset as ds
from rich.console import Console

from leadscore.atomic import atomic_directory, check_directory_target, marker_content
from leadscore.data.contract import ContractCheck, contract_of, hash_ids
from leadscore.errors import DataValidationError, LeadscoreError
from leadscore.scoring.batch import (
    LoadedModel,
    ScoreSummary,
    check_explain_supported,
    input_check,
    run_timestamp,
    score_frame,
)


def _client(scheduler: str | None, n_workers: int):
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise LeadscoreError("--engine dask needs Dask: pip install 'leadscore[dask]'") from None
    if scheduler:
        try:
            return Client(scheduler, timeout="30s")
        except (OSError, TimeoutError) as err:
            raise LeadscoreError(f"--scheduler {scheduler}: cannot connect ({err})") from None
    # One thread per worker, and LightGBM (OpenMP) told the same, so workers do not fight for cores.
    cluster = LocalCluster(
        n_workers=n_workers, threads_per_worker=1, dashboard_address=None, env={"OMP_NUM_THREADS": "1"}
    )
    return Client(cluster)


def _check_partition(part: pd.DataFrame, contract, id_column: str, source: str) -> ContractCheck:
    check = ContractCheck(contract, id_column=id_column, source=source)
    check.update(part)
    return check


def check_input(leads, *, model: LoadedModel, source: str) -> list[str]:
    """Check a Dask DataFrame against the model's input contract; raise on a refusal, return the warnings."""
    import dask

    contract, id_column = contract_of(model.scorer), model.scorer.id_column
    # Only the contract (plain data) travels to the workers, not the whole scorer.
    tasks = (dask.delayed(_check_partition)(p, contract, id_column, source) for p in leads.to_delayed())
    check = input_check(model, source=source)
    for part in dask.compute(*tasks):
        check.merge(part)
    wanted = check.unresolved_duplicate_hash
    if wanted is not None:
        # A duplicate across partitions is known only by its hash: look up its text (refusal path only).
        id_column = model.scorer.id_column
        found = leads[id_column].map_partitions(lambda s: s[hash_ids(s) == wanted], meta=leads[id_column]._meta)
        matches = found.compute()
        check.resolve_duplicate(matches.iloc[0] if len(matches) else None)
    return check.finish()


def score_with_dask(
    *,
    model: LoadedModel,
    input_path: str | Path,
    output_dir: str | Path,
    scheduler: str | None = None,
    n_workers: int = 2,
    explain: bool = False,
    scored_at: pd.Timestamp | None = None,
    console: Console | None = None,
) -> ScoreSummary:
    """Score the Parquet file or directory ``input_path`` into the Parquet directory ``output_dir``."""
    import dask.dataframe as dd

    input_path, output_dir = Path(input_path), Path(output_dir)
    if not input_path.exists():
        raise DataValidationError(f"{input_path}: input not found")
    if not (input_path.is_dir() or input_path.suffix.lower() == ".parquet"):
        raise LeadscoreError(f"{input_path}: --engine dask reads Parquet (a file or a directory of files)")
    if output_dir.suffix.lower() in (".csv", ".parquet"):
        raise LeadscoreError(f"{output_dir}: --engine dask writes a directory of Parquet files; give a directory name")
    check_directory_target(output_dir)  # before any work: only a new, empty or leadscore-written directory
    if explain:
        check_explain_supported(model.scorer)
    scored_at = scored_at or run_timestamp()
    columns = list(model.scorer.input_columns)
    try:
        leads = dd.read_parquet(str(input_path), columns=columns)
    except (OSError, ValueError, KeyError) as err:
        raise DataValidationError(f"{input_path}: could not read the columns the model needs ({err})") from None
    kwargs: dict[str, Any] = {
        "model": model,
        "scored_at": scored_at,
        "explain": explain,
        "source": str(input_path),
        "contract_checked": True,  # check_input checks the whole input first
    }
    # meta: the output's columns and dtypes, from scoring a few real rows (no fake data to trip validation).
    meta = score_frame(leads.head(2, npartitions=1, compute=True), **kwargs).iloc[:0]

    start = time.perf_counter()
    tmp_dir: Path | None = None
    client = _client(scheduler, n_workers)
    try:
        # One Parquet file (row group) is one partition: split further so that every worker thread
        # has work (a single 1M-lead file would otherwise run on one worker).
        threads = sum(w.get("nthreads", 1) for w in client.scheduler_info()["workers"].values()) or 1
        if leads.npartitions < 2 * threads:
            leads = leads.repartition(npartitions=2 * threads)
        check_input(leads, model=model, source=str(input_path))  # refuses before anything is written
        with atomic_directory(
            output_dir, marker=marker_content(content="lead scores, Parquet files written by Dask")
        ) as tmp_dir:
            scored = leads.map_partitions(score_frame, meta=meta, **kwargs)
            status = (
                console.status(f"scoring {leads.npartitions} partitions on Dask ({client.scheduler.address})")
                if console
                else contextlib.nullcontext()
            )
            with status:
                scored.to_parquet(str(tmp_dir), write_index=False, compute=True)
            rows = ds.dataset(tmp_dir, format="parquet").count_rows()
    finally:
        client.close()
        cluster = getattr(client, "cluster", None)
        if cluster is not None and not scheduler:
            cluster.close()
    return ScoreSummary(rows=rows, seconds=time.perf_counter() - start)
