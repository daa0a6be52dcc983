import json

import numpy as np
import pandas as pd
import pytest
import yaml
from support import REPO_ROOT, run_pipeline, small_params

from leadscore.data.outcomes import CALIBRATION, OPEN, TEST, TRAIN, assign_splits, outcome_labels
from leadscore.data.synthetic import generate_crm
from leadscore.errors import DataValidationError
from leadscore.features.build import LeadFeaturizer
from leadscore.io import read_table, write_table
from leadscore.models.persistence import save_featurizer
from leadscore.pipeline import generate
from leadscore.pipeline.activity import open_leads_as_of, snapshot_training_rows
from leadscore.profiles import load_profile


@pytest.fixture(scope="module")
def params():
    p = load_profile("synthetic_activity", root=REPO_ROOT)
    # Two candidates keep the decay choice quick on a tiny CRM.
    activities = p.activities.model_copy(
        update={"window_candidates": ((7, 30),), "half_life_candidates": ((3,), (14,))}
    )
    return small_params(p, n_leads=1500, n_estimators=30).model_copy(update={"activities": activities})


@pytest.fixture(scope="module")
def crm():
    return generate_crm(1500, seed=7, activities=True)


def test_snapshots_keep_each_lead_in_one_split_and_weigh_one(params, crm):
    leads = crm.leads
    labels = outcome_labels(leads, params.columns)
    splits = assign_splits(leads, labels, split=params.split, columns=params.columns)
    built = snapshot_training_rows(params, leads, labels, splits, activities=crm.activities)
    frame = pd.DataFrame({"lead_id": built.rows["lead_id"], "split": built.splits, "w": built.meta["weight"]})
    assert (frame.groupby("lead_id")["split"].nunique() == 1).all()
    closed = frame[frame["split"] != OPEN]
    assert np.allclose(closed.groupby("lead_id")["w"].sum(), 1.0)
    assert set(built.meta["age_days"][built.splits != OPEN]) <= {1.0, 7.0, 14.0, 30.0}
    # Each snapshot's lead split is its lead's.
    lead_split = dict(zip(leads["lead_id"], splits, strict=True))
    assert all(lead_split[i] == s for i, s in zip(closed["lead_id"], closed["split"], strict=True))
    # Intent from the log; the decay was chosen among the candidates on the calibration split.
    assert "web_visits_30d" not in built.features.intent and "lead_source" in built.features.intent
    assert any(c.startswith("decay_any_") for c in built.features.intent)
    assert built.report["half_lives_days"] in ([3.0], [14.0])
    assert len(built.report["decay_table"]) == 2
    assert {r["split"] for r in built.report["snapshots"]} >= {TRAIN, CALIBRATION, TEST}
    assert "n_onboarding_email_all" in built.report["naive"] and "n_onboarding_email_all" in built.rows


def test_generate_writes_an_empty_log_unless_asked(tmp_path, params):
    default = params.model_copy(
        update={
            "data": params.data.model_copy(
                update={"synthetic": params.data.synthetic.model_copy(update={"activities": False})}
            ),
            "activities": params.activities.model_copy(update={"source": None}),
        }
    )
    out = tmp_path / "activities.parquet"
    generate.run(
        default, leads_out=str(tmp_path / "l.parquet"), truth_out=str(tmp_path / "t.parquet"), activities_out=str(out)
    )
    empty = read_table(out)
    assert len(empty) == 0 and list(empty.columns)[:3] == ["lead_id", "timestamp", "activity_type"]


def test_generate_copies_a_users_log_directory(tmp_path, params, crm):
    folder = tmp_path / "events"
    folder.mkdir()
    crm.activities.iloc[:100].to_csv(folder / "a.csv", index=False)
    crm.activities.iloc[100:250].to_csv(folder / "b.csv", index=False)
    user = params.model_copy(
        update={
            "data": params.data.model_copy(
                update={"synthetic": params.data.synthetic.model_copy(update={"activities": False})}
            ),
            "activities": params.activities.model_copy(update={"source": str(folder)}),
        }
    )
    out = tmp_path / "activities.parquet"
    generate.run(
        user, leads_out=str(tmp_path / "l.parquet"), truth_out=str(tmp_path / "t.parquet"), activities_out=str(out)
    )
    assert len(read_table(out)) == 250
    missing = user.model_copy(
        update={"activities": user.activities.model_copy(update={"source": str(tmp_path / "no")})}
    )
    with pytest.raises(DataValidationError, match="activity log not found"):
        generate.run(
            missing,
            leads_out=str(tmp_path / "l.parquet"),
            truth_out=str(tmp_path / "t.parquet"),
            activities_out=str(out),
        )


def test_open_leads_as_of_a_date_use_only_earlier_events(tmp_path, params, crm):
    raw, log = tmp_path / "leads.parquet", tmp_path / "activities.parquet"
    write_table(crm.leads, raw)
    write_table(crm.activities, log)
    featurizer = LeadFeaturizer(features=params.features)
    featurizer.activity_ = {
        "types": ["web_visit", "email_open"],
        "windows_days": [7.0],
        "half_lives_days": [14.0],
        "momentum_days": [7.0, 21.0],
    }
    path = tmp_path / "featurizer.json"
    featurizer.kinds_, featurizer.dropped_columns_, featurizer.categories_ = {}, [], {}
    featurizer.fit_features_, featurizer.intent_features_ = ["employees"], ["n_any_7d"]
    save_featurizer(featurizer, path)
    now = open_leads_as_of(params, raw=raw, activities=log, featurizer=path)
    earlier = open_leads_as_of(params, raw=raw, activities=log, featurizer=path, as_of="2026-06-01")
    assert len(now) == int((crm.leads["status"] == "open").sum())
    assert (now["as_of"] == pd.Timestamp("2026-06-30")).all()
    assert len(earlier) < len(now)  # leads created since are not there yet
    assert (earlier["age_days"] >= 0).all() and (earlier["as_of"] == pd.Timestamp("2026-06-01")).all()
    # Recount one lead by hand: web visits and email opens in the 7 days before June 1st.
    lead = earlier["lead_id"].iloc[0]
    ev = crm.activities[
        (crm.activities["lead_id"] == lead) & crm.activities["activity_type"].isin(["web_visit", "email_open"])
    ]
    t = ev["timestamp"]
    expected = int(((t < pd.Timestamp("2026-06-01")) & (t >= pd.Timestamp("2026-05-25"))).sum())
    assert earlier["n_any_7d"].iloc[0] == expected
    plain = tmp_path / "plain.json"
    del featurizer.activity_
    save_featurizer(featurizer, plain)
    with pytest.raises(DataValidationError, match="not fitted on an activity log"):
        open_leads_as_of(params, raw=raw, activities=log, featurizer=plain)


@pytest.mark.slow
def test_activity_profile_end_to_end(tmp_path):
    """The synthetic_activity profile on a small CRM through predict: the age table, the leak demo,
    the naive aggregates flagged, open leads scored at their age, `--as-of` on predict with a score
    history, and `changes` between two as-of dates."""
    from leadscore.pipeline import predict

    p = small_params(load_profile("synthetic_activity", root=REPO_ROOT), n_leads=3000, n_estimators=50)
    run = run_pipeline(p, tmp_path, through="predict")
    metrics = json.loads(run.path("evaluate", "metrics_out").read_text())
    ages = metrics["activity"]["ages"]
    assert [r["age_days"] for r in ages] == [1.0, 7.0, 14.0, 30.0]
    assert all(r["auc_model"] > 0.6 and r["auc_oracle"] is not None for r in ages)
    assert metrics["activity"]["naive"]["backtest_auc"] >= 0.95
    assert "n_onboarding_email_all" in metrics["activity"]["naive_flagged"]
    assert run.path("evaluate", "figures_dir").joinpath("activity_ages.png").stat().st_size > 1000
    page = run.path("evaluate", "report_html").read_text()
    assert "Table 7. Intent from the activity log, by lead age" in page
    assert "suspected leak: naive all-time count of the activity log" in page
    audit = json.loads(run.path("featurize", "audit_out").read_text())
    assert audit["activity"]["decay_table"] and audit["activity"]["windows_days"]
    scored = read_table(run.paths("predict", "out")[0])
    assert len(scored) and (scored["age_days"] >= 0).all()
    kwargs = {k: str(run.path("predict", k)) for k in ("raw", "features", "scorer", "activities")}
    history = str(tmp_path / "history")
    earlier = predict.run(p, **kwargs, out=[str(tmp_path / "earlier.parquet")], as_of="2026-06-01", history=history)
    assert (earlier["as_of"] == pd.Timestamp("2026-06-01")).all() and len(earlier) < len(scored)
    # The score history as the log grows: two as-of dates, then the leads that moved, with log reasons.
    predict.run(p, **kwargs, out=[str(tmp_path / "later.parquet")], as_of="2026-06-29", history=history)
    from leadscore.monitoring.changes import changes_since
    from leadscore.scoring.history import open_history

    report = changes_since(open_history(history), since=pd.Timestamp("2026-06-01"), top=5)
    assert report.compared > 0 and len(report.leads) == 5
    assert report.leads["lead_id"].isin(earlier["lead_id"]).all()
    # Batch scoring of the lead table with the log, as of the same date: the same scores as predict.
    from typer.testing import CliRunner

    from leadscore.cli import app

    raw = read_table(run.path("generate", "leads_out"))
    raw[raw["lead_id"].isin(earlier["lead_id"])].to_parquet(tmp_path / "open.parquet", index=False)
    (tmp_path / "run_params.yaml").write_text(yaml.safe_dump(p.model_dump(mode="json"), sort_keys=False))
    command = ["score", "--no-progress", "--model", kwargs["scorer"], "--input", str(tmp_path / "open.parquet")]
    command += [
        "--activities",
        kwargs["activities"],
        "--as-of",
        "2026-06-01",
        "--params",
        str(tmp_path / "run_params.yaml"),
    ]
    result = CliRunner().invoke(app, [*command, "--output", str(tmp_path / "batch.parquet"), "--chunk-size", "97"])
    assert result.exit_code == 0, result.output
    batch = read_table(tmp_path / "batch.parquet").set_index("lead_id").loc[earlier["lead_id"]]
    np.testing.assert_allclose(batch["conversion_probability"], earlier["conversion_probability"], rtol=1e-9)
    assert (batch["as_of"] == pd.Timestamp("2026-06-01")).all()
    without_log = CliRunner().invoke(app, [*command[:6], "--output", str(tmp_path / "x.parquet")])
    assert without_log.exit_code == 2 and "pass it with --activities" in without_log.output
    # register: champion vs challenger on the test leads (each at its latest snapshot), a real MLflow store.
    tracked = p.model_copy(
        update={"mlflow": p.mlflow.model_copy(update={"tracking_uri": f"sqlite:///{tmp_path / 'mlflow.db'}"})}
    )
    (tmp_path / "params.yaml").write_text("{}\n")
    run = run_pipeline(tracked, tmp_path, through="register", skip=(), start="register")
    assert json.loads(run.path("register", "promotion_out").read_text())["decision"] == "promoted"
