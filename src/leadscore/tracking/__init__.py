"""The only module that talks to MLflow: run logging, the composite pyfunc model, the registry.

(With ``pyfunc_model.py`` beside it: the model-from-code file MLflow itself loads by path.)

Importing MLflow costs about two seconds, so only the commands that track or load registered models
import this module. Nothing happens at import time: the tracking URI is resolved when a run starts.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
from collections.abc import Iterator, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from mlflow.models import ModelSignature, infer_signature
from mlflow.tracking import MlflowClient

from leadscore.config import Params
from leadscore.errors import LeadscoreError
from leadscore.models.persistence import load_booster, load_display, load_scorer

CHAMPION, CHALLENGER = "champion", "challenger"
# The champion before the current one (what `leadscore rollback` goes back to).
PREVIOUS_CHAMPION = "previous-champion"
# Registered-model tag: every version that has been champion, oldest first, comma-separated. Rollback
# walks back along it; the aliases alone remember one step only.
HISTORY_TAG = "leadscore.champion_history"
_DVC_TEMP_MARKER = f"{os.sep}.dvc{os.sep}tmp{os.sep}exps{os.sep}"
# The registered model is "models from code": this file plus the scorer's JSON files as artifacts.
MODEL_CODE = Path(__file__).parent / "pyfunc_model.py"


def default_tracking_uri(cwd: str | Path | None = None) -> str:
    """``sqlite:///<repo root>/mlflow.db``.

    ``dvc exp run --temp/--queue`` runs stages in a copy under ``.dvc/tmp/exps``; without care every
    such experiment would log to a throwaway store inside that copy, so we climb back to the real root.
    """
    cwd = str(Path(cwd or os.getcwd()).resolve())
    if _DVC_TEMP_MARKER in cwd:
        cwd = cwd.split(_DVC_TEMP_MARKER)[0]
    return f"sqlite:///{Path(cwd) / 'mlflow.db'}"


def store_uri(params: Params | None = None) -> str:
    """The MLflow store to use: env MLFLOW_TRACKING_URI, else params mlflow.tracking_uri, else the
    repo's sqlite file."""
    configured = params.mlflow.tracking_uri if params is not None else None
    return os.environ.get("MLFLOW_TRACKING_URI") or configured or default_tracking_uri()


@contextlib.contextmanager
def using_store(uri: str) -> Iterator[str]:
    """Point MLflow's tracking and registry at ``uri`` for the block, then put everything back.

    ``mlflow.set_*_uri`` also export MLFLOW_TRACKING_URI / MLFLOW_REGISTRY_URI to ``os.environ``,
    which every later subprocess (a `dvc repro`, a model server) would inherit; restoring them keeps
    the process as it was. The registry lives in the same store unless the user set one explicitly.
    """
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    saved = {key: os.environ.get(key) for key in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")}
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(saved["MLFLOW_REGISTRY_URI"] or uri)
    try:
        yield uri
    finally:
        mlflow.set_tracking_uri(None)  # type: ignore[arg-type]  # None: back to MLflow's default
        mlflow.set_registry_uri(None)  # type: ignore[arg-type]
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _flatten(prefix: str, value: Any, out: dict[str, Any]) -> dict[str, Any]:
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, out)
    else:
        out[prefix] = value
    return out


# MLflow refuses param names outside these characters (e.g. "&" or parentheses in a category alias or
# a label) and values above its length limit: such keys are sanitised, long values cut; the params
# file itself is logged whole as an artifact.
_UNSAFE_KEY = re.compile(r"[^A-Za-z0-9_\-./ ]")
_MAX_KEY, _MAX_VALUE = 250, 6000


def safe_params(params: Params) -> dict[str, str]:
    """Params as flat, MLflow-safe ``name -> text``: keys sanitised (unsafe characters become ``_``,
    collisions numbered), lists and mappings as JSON, values cut to MLflow's limit."""
    flat = _flatten("", params.model_dump(mode="json", by_alias=True), {})
    out: dict[str, str] = {}
    for key, value in flat.items():
        name = _UNSAFE_KEY.sub("_", key)[:_MAX_KEY]
        base, i = name, 2
        while name in out:
            name, i = f"{base[: _MAX_KEY - 4]}_{i}", i + 1
        text = json.dumps(value, ensure_ascii=False) if isinstance(value, (list, dict)) else str(value)
        out[name] = text if len(text) <= _MAX_VALUE else text[: _MAX_VALUE - 3] + "..."
    return out


def leak_tags(metrics: dict) -> dict[str, str]:
    """Tags for the run and the model version: the suspected leaks the models were trained with."""
    kept = (metrics.get("leakage") or {}).get("kept") or []
    if "leakage" not in metrics:
        return {}
    text = ", ".join(f"{k['column']} (AUC {k['auc']:.3f})" for k in kept) or "none"
    return {"suspected_leaks": text[:_MAX_VALUE]}


def _git_commit() -> str | None:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def pip_requirements() -> list[str]:
    """Pinned requirements of the pyfunc model: only what scoring imports (inference is slow and wrong)."""
    names = ["pandas", "numpy", "pyarrow", "scipy", "scikit-learn", "lightgbm", "pydantic", "pyyaml", "mlflow"]
    return [f"{name}=={metadata.version(name)}" for name in names]


def _metric_items(metrics: dict) -> dict[str, float]:
    flat = _flatten("", metrics, {})
    return {
        k.replace(".", "_"): float(v)
        for k, v in flat.items()
        if isinstance(v, (int, float)) and not isinstance(v, bool)
    }


def log_pipeline_run(
    params: Params,
    *,
    params_path: str,
    metrics: dict,
    scorer_path: str,
    fit_model_path: str,
    intent_model_path: str,
    input_example: pd.DataFrame,
    data_fingerprint: str,
    artifacts: Sequence[str] = (),
    display_path: str | None = None,
    promotion: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Log one pipeline run, register the composite model as challenger and promote it if ``promotion`` says so.

    The composite model is logged "from code" (:data:`MODEL_CODE`) with ``lead_scorer.json`` and
    ``display.json`` as artifacts: loading it reads JSON and LightGBM text, never a pickle.
    ``promotion`` is the champion-vs-challenger decision made on the same leads beforehand
    (:func:`leadscore.evaluation.promotion.compare_champion_challenger`): its decision and numbers are
    logged to the run (tags ``promotion.*``, metrics ``promotion_*``), its ``challenger_version`` is
    filled in, and the new version becomes ``@champion`` only when the decision is ``"promoted"``
    (None: registered as challenger only). Returns a summary (run id, model version, aliases,
    promotion) that the register stage writes to disk.
    """
    with using_store(store_uri(params)) as tracking_uri:
        mlflow.set_experiment(params.mlflow.experiment)
        name = params.mlflow.registered_model
        scorer = load_scorer(scorer_path)
        if display_path:
            scorer = scorer.with_display(load_display(display_path))
        with mlflow.start_run() as run:
            mlflow.log_params(safe_params(params))
            commit = _git_commit()
            mlflow.set_tags(
                {
                    "data_fingerprint": data_fingerprint,
                    "data_source": params.data.source,
                    **leak_tags(metrics),
                    **({"mlflow.source.git.commit": commit} if commit else {}),
                }
            )
            mlflow.log_artifact(params_path)
            for path in artifacts:
                if Path(path).is_dir():
                    mlflow.log_artifacts(path, artifact_path=Path(path).name)
                elif Path(path).exists():
                    mlflow.log_artifact(path)
            requirements = pip_requirements()
            for label, path in (("fit_model", fit_model_path), ("intent_model", intent_model_path)):
                # A Booster is logged as LightGBM's text model (an LGBMClassifier would be pickled).
                mlflow.lightgbm.log_model(load_booster(path), name=label, pip_requirements=requirements)
            example = input_example[scorer.input_columns].head(5).reset_index(drop=True)
            model_artifacts = {"scorer": scorer_path, **({"display": display_path} if display_path else {})}
            info = mlflow.pyfunc.log_model(
                name="lead_scorer",
                python_model=str(MODEL_CODE),
                artifacts=model_artifacts,
                signature=_signature(scorer.predict(example, explain=True)),
                input_example=example,
                pip_requirements=requirements,
                registered_model_name=name,
            )
            version = str(info.registered_model_version)
            # After the models: MLflow 3's log_model copies every metric already on the run into the
            # model's metrics, one history query per metric (3 s of the register stage's 12 s).
            mlflow.log_metrics(_metric_items(metrics))
            if promotion is not None:
                promotion["challenger_version"] = version
                mlflow.set_tags(_promotion_tags(promotion))
                mlflow.log_metrics(_promotion_metrics(promotion))
        client = MlflowClient()
        for key, value in leak_tags(metrics).items():
            client.set_model_version_tag(name, version, key, value)
        client.set_registered_model_alias(name, CHALLENGER, version)
        promoted = promotion is not None and promotion.get("decision") == "promoted"
        if promoted:
            _set_champion(client, name, version, by="register", reason=str(promotion["reason"]))  # type: ignore[index]
        return {
            "tracking_uri": tracking_uri,
            "experiment": params.mlflow.experiment,
            "run_id": run.info.run_id,
            "registered_model": name,
            "version": version,
            "aliases": [CHALLENGER] + ([CHAMPION] if promoted else []),
            "promotion": None if promotion is None else {k: promotion.get(k) for k in ("decision", "reason")},
        }


def log_tuning(params: Params, *, parent_run_id: str, reports: Sequence[dict[str, Any]]) -> dict[str, list[str]]:
    """Log hyperparameter searches (``train.tune``) under the pipeline run ``parent_run_id``: one child
    run per trial (its parameters, mean and per-fold log loss, trees per fold), and on the parent the
    best parameters (``tuned.<group>.<name>``) and the best and configured fold log losses.

    ``reports`` are the train stage's tuning reports (``reports/tuning_<group>.json``); a report with
    tuning off logs nothing. Returns the child run ids per group.

    Raises
    ------
    LeadscoreError
        If the parent run does not exist in the store.
    """
    children: dict[str, list[str]] = {}
    with using_store(store_uri(params)) as uri:
        try:
            parent = MlflowClient().get_run(parent_run_id)
        except mlflow.exceptions.MlflowException:
            raise LeadscoreError(f"{uri}: no MLflow run {parent_run_id!r} to log the tuning trials under") from None
        experiment_id = parent.info.experiment_id
        # Resume the (finished) pipeline run so the trials nest under it; it is finished again on exit.
        with mlflow.start_run(run_id=parent_run_id):
            for report in reports:
                if not report.get("enabled"):
                    continue
                group = str(report["group"])
                mlflow.log_params({f"tuned.{group}.{k}": v for k, v in report["best_params"].items()})
                mlflow.log_metrics(
                    {
                        f"tuning_{group}_best_log_loss": float(report["best_log_loss"]),
                        f"tuning_{group}_configured_log_loss": float(report["configured_log_loss"]),
                        f"tuning_{group}_trials": float(report["n_trials_completed"]),
                        f"tuning_{group}_seconds": float(report["seconds"]),
                    }
                )
                mlflow.set_tag(f"tuning.{group}.best_trial", str(report["best_trial"]))
                ids = children.setdefault(group, [])
                for trial in report["trials"]:
                    tags = {"leadscore.tuning.group": group, "leadscore.tuning.trial": str(trial["number"])}
                    if trial["number"] == report["best_trial"]:
                        tags["leadscore.tuning.best"] = "true"
                    with mlflow.start_run(
                        run_name=f"tune {group} #{trial['number']}", experiment_id=experiment_id, nested=True, tags=tags
                    ) as child:
                        mlflow.log_params(trial["params"])
                        metrics = {"log_loss": float(trial["log_loss"])}
                        for k, (loss, trees) in enumerate(
                            zip(trial["fold_log_losses"], trial["fold_trees"], strict=True), start=1
                        ):
                            metrics[f"fold_{k}_log_loss"], metrics[f"fold_{k}_trees"] = float(loss), float(trees)
                        if trial.get("seconds") is not None:
                            metrics["seconds"] = float(trial["seconds"])
                        mlflow.log_metrics(metrics)
                        ids.append(child.info.run_id)
    return children


def _promotion_tags(promotion: dict[str, Any]) -> dict[str, str]:
    tags = {
        "promotion.decision": str(promotion.get("decision")),
        "promotion.reason": str(promotion.get("reason"))[:4900],  # MLflow caps tag values at 5000 chars
        "promotion.rows_compared": str(promotion.get("rows_compared")),
    }
    if promotion.get("champion_version") is not None:
        tags["promotion.champion_version"] = str(promotion["champion_version"])
    return tags


def _promotion_metrics(promotion: dict[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    for side in ("challenger", "champion"):
        for key, value in (promotion.get(side) or {}).items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                out[f"promotion_{side}_{key}"] = float(value)
    return out


def _history(client: MlflowClient, name: str) -> list[str]:
    tag = client.get_registered_model(name).tags.get(HISTORY_TAG, "")
    return [v for v in tag.split(",") if v]


def _alias_version(client: MlflowClient, name: str, alias: str) -> str | None:
    try:
        return str(client.get_model_version_by_alias(name, alias).version)
    except mlflow.exceptions.MlflowException:
        return None


def _set_champion(client: MlflowClient, name: str, version: str, *, by: str, reason: str) -> str | None:
    """Make ``version`` the champion, remember the one it replaces, tag the version with who and why.

    Returns the previous champion's version (None when there was none).
    """
    import datetime

    previous = _alias_version(client, name, CHAMPION)
    history = _history(client, name)
    if previous is not None and (not history or history[-1] != previous):
        history.append(previous)  # a champion set before history was kept (or by hand in the UI)
    if not history or history[-1] != version:
        history.append(version)
    client.set_registered_model_alias(name, CHAMPION, version)
    if previous is not None and previous != version:
        client.set_registered_model_alias(name, PREVIOUS_CHAMPION, previous)
    client.set_registered_model_tag(name, HISTORY_TAG, ",".join(history))
    now = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    for key, value in {
        "leadscore.champion_since": now,
        "leadscore.champion_by": by,
        "leadscore.champion_reason": reason[:4900],
        "leadscore.replaced": previous or "",
    }.items():
        client.set_model_version_tag(name, version, key, value)
    return previous


def champion_version(params: Params) -> str | None:
    """The version behind ``@champion`` of the registered model (None when there is none yet)."""
    with using_store(store_uri(params)):
        client = MlflowClient()
        try:
            client.get_registered_model(params.mlflow.registered_model)
        except mlflow.exceptions.MlflowException:
            return None
        return _alias_version(client, params.mlflow.registered_model, CHAMPION)


def load_champion(params: Params) -> tuple[Any, str] | None:
    """``(scorer, version)`` of the current ``@champion``, read from its JSON artifacts; None when
    there is no champion yet.

    Raises
    ------
    LeadscoreError
        If the champion exists but cannot be read (e.g. a pickled model from an older leadscore).
    """
    version = champion_version(params)
    if version is None:
        return None
    uri = f"models:/{params.mlflow.registered_model}/{version}"
    scorer, _, _ = load_scorer_from_uri(uri, store=store_uri(params))
    return scorer, version


def promote(params: Params, version: str, *, reason: str = "promoted by hand") -> dict[str, Any]:
    """Make ``version`` the champion (``leadscore promote``), logged as tags on the version.

    Raises
    ------
    LeadscoreError
        If the registered model or the version does not exist.
    """
    name = params.mlflow.registered_model
    with using_store(store_uri(params)) as uri:
        client = MlflowClient()
        try:
            client.get_model_version(name, str(version))
        except mlflow.exceptions.MlflowException:
            raise LeadscoreError(
                f"{uri}: registered model {name!r} has no version {version!r} (see `mlflow ui` or the register "
                "stage's reports/mlflow_run.json)"
            ) from None
        previous = _set_champion(client, name, str(version), by="leadscore promote", reason=reason)
        return {"registered_model": name, "champion": str(version), "previous_champion": previous}


def rollback(params: Params, *, reason: str = "rolled back by hand") -> dict[str, Any]:
    """Put the champion before the current one back (``leadscore rollback``), logged as tags on both versions.

    Raises
    ------
    LeadscoreError
        If there is no champion, or no earlier champion to go back to.
    """
    import datetime

    name = params.mlflow.registered_model
    with using_store(store_uri(params)) as uri:
        client = MlflowClient()
        current = _alias_version(client, name, CHAMPION) if _model_exists(client, name) else None
        if current is None:
            raise LeadscoreError(f"{uri}: registered model {name!r} has no @champion to roll back")
        history = _history(client, name)
        while history and history[-1] == current:
            history.pop()
        if not history:
            raise LeadscoreError(
                f"{uri}: {name!r} v{current} is the only champion there has been; nothing to roll back to"
            )
        target = history[-1]
        client.set_registered_model_alias(name, CHAMPION, target)
        client.set_registered_model_tag(name, HISTORY_TAG, ",".join(history))
        if len(history) >= 2:
            client.set_registered_model_alias(name, PREVIOUS_CHAMPION, history[-2])
        else:
            client.delete_registered_model_alias(name, PREVIOUS_CHAMPION)
        now = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
        client.set_model_version_tag(name, current, "leadscore.rolled_back_at", now)
        client.set_model_version_tag(name, current, "leadscore.rolled_back_reason", reason[:4900])
        client.set_model_version_tag(name, target, "leadscore.champion_since", now)
        client.set_model_version_tag(name, target, "leadscore.champion_by", "leadscore rollback")
        client.set_model_version_tag(name, target, "leadscore.champion_reason", f"{reason} (from v{current})")
        return {"registered_model": name, "champion": target, "rolled_back": current}


def _model_exists(client: MlflowClient, name: str) -> bool:
    try:
        client.get_registered_model(name)
    except mlflow.exceptions.MlflowException:
        return False
    return True


def _signature(output: pd.DataFrame) -> ModelSignature:
    """Output columns and the ``explain`` param; no input schema, on purpose.

    With an input schema MLflow's server checks and casts columns before the model sees them: it
    answers a missing column or a wrong type with its own multi-line message (or a stack trace), cannot
    parse text/csv at all when a column is typed ``AnyType`` (which numeric columns must be: a count
    arrives as ints in one request and floats-with-nulls in the next), and turns a null boolean into
    False. Without one, the request reaches the same checks and featurizer as batch scoring, which
    name the column in one line. The logged input example still documents the columns.
    """
    inferred = infer_signature(None, output, params={"explain": True})
    return ModelSignature(inputs=None, outputs=inferred.outputs, params=inferred.params)


def latest_run(experiment: str) -> dict[str, Any]:
    """The most recent run of ``experiment`` in the current store: id, start time, metrics and tags.

    Uses the store set by env MLFLOW_TRACKING_URI, else the repo's sqlite file.
    """
    from leadscore.errors import LeadscoreError

    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    uri = store_uri()
    client = MlflowClient(tracking_uri=uri)
    found = client.get_experiment_by_name(experiment)
    runs = (
        client.search_runs([found.experiment_id], order_by=["attributes.start_time DESC"], max_results=1)
        if found
        else []
    )
    if not runs:
        raise LeadscoreError(f"{uri}: no runs in experiment {experiment!r} (run `make run` first)")
    run = runs[0]
    return {
        "run_id": run.info.run_id,
        "start_time": pd.Timestamp(run.info.start_time, unit="ms"),
        "metrics": dict(run.data.metrics),
        "tags": {k: v for k, v in run.data.tags.items() if not k.startswith("mlflow.log")},
    }


def load_scorer_from_uri(
    model_uri: str, *, trust_pickle: bool = False, store: str | None = None
) -> tuple[Any, str, str]:
    """The LeadScorer of a logged leadscore model, with the name and version to stamp on scores.

    Reads the model's ``lead_scorer.json`` and ``display.json`` artifacts directly: no code from the
    store is run and nothing is unpickled. A model logged by an older leadscore (a pickled pyfunc) is
    refused unless ``trust_pickle``. Tracking store: env MLFLOW_TRACKING_URI, else the repo's sqlite
    file. Returns ``(scorer, model_name, model_version)``: for ``models:/name@alias`` or
    ``models:/name/3`` the registered name and version; for any other URI (``runs:/...``) the URI and
    the run id. ``store``: read from this tracking URI instead.
    """
    import tempfile

    import yaml

    with using_store(store or store_uri()) as uri, tempfile.TemporaryDirectory(prefix="leadscore-model-") as tmp:
        try:
            local = Path(mlflow.artifacts.download_artifacts(artifact_uri=model_uri, dst_path=tmp))
            meta = yaml.safe_load((local / "MLmodel").read_text())
            pyfunc_conf = (meta.get("flavors") or {}).get("python_function") or {}
            model_artifacts = pyfunc_conf.get("artifacts") or {}
            if "model_code_path" in pyfunc_conf and "scorer" in model_artifacts:
                scorer = load_scorer(local / model_artifacts["scorer"]["path"])
                if "display" in model_artifacts:
                    scorer = scorer.with_display(load_display(local / model_artifacts["display"]["path"]))
            elif "python_model" in pyfunc_conf and trust_pickle:
                scorer = _trusted_legacy_scorer(model_uri)
            elif "python_model" in pyfunc_conf:
                raise LeadscoreError(
                    f"{model_uri}: a pickled MLflow model (logged by an older leadscore), refused: pickles can run "
                    "any code when loaded; re-run the pipeline to register a JSON model, or pass --trust-pickle "
                    "only if you trust this registry"
                )
            else:
                raise LeadscoreError(f"{model_uri}: not a leadscore model (no lead_scorer.json artifact)")
            name, version = model_uri, meta.get("run_id") or "unknown"
            if model_uri.startswith("models:/"):
                ref = model_uri[len("models:/") :]
                client = MlflowClient()
                if "@" in ref:
                    name, alias = ref.split("@", 1)
                    version = str(client.get_model_version_by_alias(name, alias).version)
                else:
                    name, _, version = ref.partition("/")
        except mlflow.exceptions.MlflowException as err:
            raise LeadscoreError(
                f"{model_uri}: could not load the model from {uri} ({str(err).splitlines()[0]})"
            ) from None
        except OSError as err:
            raise LeadscoreError(f"{model_uri}: could not read the model ({err})") from None
    return scorer, name, version


def _trusted_legacy_scorer(model_uri: str) -> Any:
    """Unpickle an old leadscore pyfunc model (the caller trusts it) and convert its scorer."""
    from leadscore.models.persistence import scorer_from_legacy

    python_model = mlflow.pyfunc.load_model(model_uri).unwrap_python_model()
    return scorer_from_legacy(getattr(python_model, "scorer", python_model), source=model_uri)
