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
    DriftTarget,
    LoadedModel,
    ScoreSummary,
    check_explain_supported,
    finish_drift,
    input_check,
    run_timestamp,
    score_frame,
    write_drift,
)

_PART_NAME = "part-{:05d}.parquet"


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
    drift: DriftTarget | None = None,
) -> ScoreSummary:
    """Score the Parquet file or directory ``input_path`` into the Parquet directory ``output_dir``.

    With ``drift``, each partition's raw columns and its written probabilities are counted into the
    model's drift bins on the workers and the counts summed on the client (the same report as the
    single engine); the report is written after the scores directory is in place.
    """
    import dask
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
    accumulator = None
    if drift is not None:
        from leadscore.monitoring.drift import drift_accumulator

        accumulator = drift_accumulator(model.scorer, model_description=f"{model.name} {model.version}")
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
    report: dict[str, Any] | None = None
    png: bytes | None = None
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
                scored.to_parquet(str(tmp_dir), write_index=False, compute=True, name_function=_PART_NAME.format)
                if accumulator is not None and drift is not None:
                    # Counted from the written files (three probability columns) and the input
                    # partitions, part i beside partition i: nothing is scored twice.
                    tasks = [
                        dask.delayed(_count_partition)(raw, str(tmp_dir / _PART_NAME.format(i)), accumulator.reference)
                        for i, raw in enumerate(leads.to_delayed())
                    ]
                    for part in dask.compute(*tasks):
                        accumulator.merge(part)
                    report, png = finish_drift(
                        accumulator, target=drift, model=model, input=str(input_path), output=str(output_dir)
                    )
            rows = ds.dataset(tmp_dir, format="parquet").count_rows()
    finally:
        client.close()
        cluster = getattr(client, "cluster", None)
        if cluster is not None and not scheduler:
            cluster.close()
    files = write_drift(report, png, target=drift) if report is not None and drift is not None else ()
    return ScoreSummary(rows=rows, seconds=time.perf_counter() - start, drift=report, drift_files=files)


def _count_partition(raw: pd.DataFrame, scores_file: str, reference: dict[str, Any]):
    """One partition's drift counts: its raw columns and the probabilities written for it."""
    from leadscore.monitoring.drift import SCORE_NAMES, DriftAccumulator

    if not len(raw) and not Path(scores_file).exists():
        return DriftAccumulator(reference)  # an empty partition may write no file
    scores = pd.read_parquet(scores_file, columns=list(SCORE_NAMES))
    return DriftAccumulator(reference).update(raw, scores, source=scores_file)
