import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadscore.errors import DataValidationError
from leadscore.features.activity import (
    ActivityFeatureSpec,
    EventColumns,
    activity_types,
    iter_point_in_time_features,
    naive_all_time_features,
    point_in_time_features,
)

AS_OF = pd.Timestamp("2026-03-31 12:00:00")
DAY = pd.Timedelta(days=1)
SPEC = ActivityFeatureSpec(types=("web_visit", "email_open"), windows_days=(7, 30), half_lives_days=(7,))


def _log(rows: list[tuple[str, pd.Timestamp, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["lead_id", "timestamp", "activity_type"])


@pytest.fixture
def events() -> pd.DataFrame:
    return _log(
        [
            ("A", AS_OF - 1 * DAY, "web_visit"),
            ("A", AS_OF - 7 * DAY, "web_visit"),  # exactly on the 7-day edge: inside
            ("A", AS_OF - 10 * DAY, "email_open"),
            ("A", AS_OF - 30 * DAY - pd.Timedelta(seconds=1), "web_visit"),  # just outside 30 days
            ("A", AS_OF, "web_visit"),  # at as_of: not before it, ignored
            ("A", AS_OF + 2 * DAY, "email_open"),  # after as_of, ignored
            ("A", AS_OF - 2 * DAY, "unsubscribe"),  # type not listed, ignored
            ("B", AS_OF - 3 * DAY, "email_open"),
        ]
    )


@pytest.fixture
def snapshots() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lead_id": ["A", "C", "B"],  # C has no events at all
            "as_of": [AS_OF, AS_OF, AS_OF],
            "created_at": [AS_OF - 40 * DAY, AS_OF - 2.5 * DAY, AS_OF - 5 * DAY],
            "label": [1.0, 0.0, 0.0],
        }
    )


def test_known_answers_for_every_feature_kind(events, snapshots):
    out = point_in_time_features(events, snapshots, spec=SPEC)
    assert list(out.columns) == [*snapshots.columns, *SPEC.feature_names()]
    a, c, b = (out.iloc[i] for i in range(3))
    pd.testing.assert_frame_equal(out[snapshots.columns], snapshots)  # passed through, in order
    # Counts per window: the edge at exactly W days is inside; as_of itself and later are not.
    assert a["n_web_visit_7d"] == 2
    assert a["n_web_visit_30d"] == 2
    assert a["n_email_open_7d"] == 0 and a["n_email_open_30d"] == 1
    assert a["n_any_7d"] == 2 and a["n_any_30d"] == 3
    # Decayed counts: 2 ** (-age / half-life) per event, all events before as_of.
    old = 30 + 1 / 86_400
    assert a["decay_web_visit_7d"] == pytest.approx(2 ** (-1 / 7) + 2 ** (-7 / 7) + 2 ** (-old / 7), rel=1e-12)
    assert a["decay_email_open_7d"] == pytest.approx(2 ** (-10 / 7), rel=1e-12)
    assert a["decay_any_7d"] == pytest.approx(a["decay_web_visit_7d"] + a["decay_email_open_7d"], rel=1e-12)
    # Recency in days; NaN when the type never happened before as_of.
    assert a["days_since_web_visit"] == pytest.approx(1.0)
    assert a["days_since_email_open"] == pytest.approx(10.0)
    assert a["days_since_any"] == pytest.approx(1.0)
    # Momentum: last 7 days (2 visits) vs the 21 days before (0 visits), per week.
    assert a["momentum_web_visit"] == pytest.approx(math.log(3.0))
    assert a["momentum_email_open"] == pytest.approx(math.log(1 / (1 / 3 + 1)))
    assert a["momentum_any"] == pytest.approx(math.log(3 / (1 / 3 + 1)))
    assert a["lead_age_days"] == pytest.approx(40.0)
    # A lead without events: zero counts, zero momentum, NaN recency.
    assert c["n_any_30d"] == 0 and c["decay_any_7d"] == 0.0 and c["momentum_any"] == 0.0
    assert math.isnan(c["days_since_any"]) and c["lead_age_days"] == pytest.approx(2.5)
    assert b["n_email_open_7d"] == 1 and b["days_since_email_open"] == pytest.approx(3.0)
    assert out["n_web_visit_7d"].dtype == np.int64


def test_strictly_before_at_equal_timestamps():
    t = pd.Timestamp("2026-01-10 09:00:00")
    ev = _log([("A", t, "web_visit"), ("A", t, "email_open"), ("A", t - pd.Timedelta(microseconds=1), "web_visit")])
    snaps = pd.DataFrame({"lead_id": ["A", "A"], "as_of": [t, t + pd.Timedelta(microseconds=1)]})
    out = point_in_time_features(ev, snaps, spec=SPEC, created_at_column=None)
    assert out["n_any_7d"].tolist() == [1, 3]
    assert "lead_age_days" not in out.columns


def test_window_edges():
    ev = _log([("A", AS_OF - 30 * DAY, "web_visit"), ("A", AS_OF - 30 * DAY - pd.Timedelta(seconds=1), "web_visit")])
    snaps = pd.DataFrame({"lead_id": ["A"], "as_of": [AS_OF]})
    out = point_in_time_features(ev, snaps, spec=SPEC)
    assert out.loc[0, "n_web_visit_30d"] == 1  # [as_of - 30 days, as_of)
    assert out.loc[0, "n_web_visit_7d"] == 0


def test_same_answer_from_every_source_and_partitioning(events, snapshots, tmp_path):
    expected = point_in_time_features(events, snapshots, spec=SPEC)
    events.to_parquet(tmp_path / "log.parquet")
    events.to_csv(tmp_path / "log.csv", index=False)
    (tmp_path / "dir").mkdir()
    events.iloc[:4].to_parquet(tmp_path / "dir" / "part-0.parquet")
    events.iloc[4:].to_parquet(tmp_path / "dir" / "part-1.parquet")
    for source in (
        tmp_path / "log.parquet",
        str(tmp_path / "log.csv"),
        tmp_path / "dir",
        pa.Table.from_pandas(events),
    ):
        got = point_in_time_features(source, snapshots, spec=SPEC)
        pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-12)
    for parts in (2, 5):
        got = point_in_time_features(events, snapshots, spec=SPEC, partitions=parts)
        pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-12)


def test_streams_record_batches(events, snapshots):
    batches = list(iter_point_in_time_features(events, snapshots, spec=SPEC, batch_rows=2, partitions=1))
    assert [b.num_rows for b in batches] == [2, 1]
    assert batches[0].schema.names[: len(snapshots.columns)] == list(snapshots.columns)


def test_integer_ids_in_the_log_match_text_ids_in_snapshots():
    ev = pd.DataFrame({"id": [17, 17], "ts": [AS_OF - DAY, AS_OF - 2 * DAY], "kind": ["web_visit", "web_visit"]})
    snaps = pd.DataFrame({"lead": ["17"], "as_of": ["2026-03-31 12:00:00"]})
    out = point_in_time_features(
        ev, snaps, spec=SPEC, columns=EventColumns("id", "ts", "kind"), id_column="lead", created_at_column=None
    )
    assert out.loc[0, "n_web_visit_7d"] == 2


def test_custom_types_get_safe_column_names():
    spec = ActivityFeatureSpec(types=("Email Open",), windows_days=(7,), half_lives_days=(1.5,))
    assert spec.feature_names() == [
        "n_email_open_7d",
        "decay_email_open_1p5d",
        "days_since_email_open",
        "momentum_email_open",
        "n_any_7d",
        "decay_any_1p5d",
        "days_since_any",
        "momentum_any",
        "lead_age_days",
    ]


def test_naive_all_time_counts_include_the_future(events, snapshots):
    out = naive_all_time_features(events, snapshots, types=("web_visit", "email_open", "unsubscribe"))
    assert out["n_web_visit_all"].tolist() == [4, 0, 0]
    assert out["n_email_open_all"].tolist() == [2, 0, 1]
    assert out["n_any_all"].tolist() == [7, 0, 1]
    pd.testing.assert_frame_equal(out[snapshots.columns], snapshots)


def test_activity_types_lists_the_log(events):
    assert activity_types(events) == ("email_open", "unsubscribe", "web_visit")


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda ev, sn: (ev.drop(columns="activity_type"), sn), "'activity_type'"),
        (lambda ev, sn: (ev, sn.drop(columns="as_of")), "as_of"),
        (lambda ev, sn: (ev, sn.assign(as_of=["2026-03-31", "not a date", "2026-03-31"])), "'as_of'.*'not a date'"),
        (lambda ev, sn: (ev.assign(timestamp=1.5), sn), "'timestamp' should hold timestamps"),
        (lambda ev, sn: (ev.assign(timestamp=ev["timestamp"].where(ev.index != 2)), sn), "'timestamp' is empty in 1"),
        (lambda ev, sn: (ev.assign(lead_id=ev["lead_id"].where(ev.index != 2)), sn), "'lead_id' is empty in 1"),
    ],
)
def test_bad_input_names_the_column(events, snapshots, mutate, match):
    ev, sn = mutate(events, snapshots)
    with pytest.raises(DataValidationError, match=match):
        point_in_time_features(ev, sn, spec=SPEC)


def test_bad_spec_and_missing_file(tmp_path, snapshots):
    with pytest.raises(DataValidationError, match="half_lives_days"):
        ActivityFeatureSpec(types=("web_visit",), half_lives_days=(0,))
    with pytest.raises(DataValidationError, match="twice"):
        ActivityFeatureSpec(types=("web_visit", "web_visit"))
    with pytest.raises(DataValidationError, match="not found"):
        point_in_time_features(tmp_path / "nope.parquet", snapshots, spec=SPEC)


# -- the point-in-time property -------------------------------------------------------------------------
_BASE = pd.Timestamp("2026-01-01")
_TYPES = ("web_visit", "email_open", "demo_request")
_PROP_SPEC = ActivityFeatureSpec(types=_TYPES, windows_days=(1, 7), half_lives_days=(2,), momentum_days=(2, 5))
_event = st.tuples(
    st.sampled_from(["A", "B"]),
    st.integers(min_value=0, max_value=20 * 24),  # hours after _BASE
    st.sampled_from([*_TYPES, "onboarding_email"]),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    events=st.lists(_event, min_size=0, max_size=12),
    as_of_hours=st.lists(st.integers(min_value=0, max_value=20 * 24), min_size=1, max_size=3),
    which=st.integers(min_value=0, max_value=3),
    change=st.lists(_event, min_size=1, max_size=4),
    how=st.sampled_from(["add", "remove", "alter"]),
)
def test_events_at_or_after_as_of_never_change_a_snapshot(events, as_of_hours, which, change, how):
    def frame(rows):
        return pd.DataFrame(
            {
                "lead_id": [r[0] for r in rows],
                "timestamp": pd.to_datetime([_BASE + pd.Timedelta(hours=r[1]) for r in rows]).astype("datetime64[ns]"),
                "activity_type": [r[2] for r in rows],
            }
        )

    snaps = pd.DataFrame(
        {
            "lead_id": ["A"] * len(as_of_hours) + ["B"],
            "as_of": [_BASE + pd.Timedelta(hours=h) for h in [*as_of_hours, as_of_hours[0]]],
        }
    )
    before = point_in_time_features(frame(events), snaps, spec=_PROP_SPEC, created_at_column=None)
    i = which % len(snaps)
    cutoff = int((snaps.loc[i, "as_of"] - _BASE) / pd.Timedelta(hours=1))
    lead = snaps.loc[i, "lead_id"]
    # Change only events of this snapshot's lead at or after its as-of time (other snapshots may change).
    late = {j for j, e in enumerate(events) if e[0] == lead and e[1] >= cutoff}
    if how == "add":
        rows = [*events, *[(lead, max(cutoff, c[1]), c[2]) for c in change]]
    elif how == "remove":
        rows = [e for j, e in enumerate(events) if j not in late]
    else:
        rows = [(e[0], e[1] + change[0][1] % 5, change[0][2]) if j in late else e for j, e in enumerate(events)]
    after = point_in_time_features(frame(rows), snaps, spec=_PROP_SPEC, created_at_column=None)
    pd.testing.assert_series_equal(after.iloc[i], before.iloc[i], check_exact=False, rtol=1e-12)


# -- the leak, on a small synthetic sample ----------------------------------------------------------------
def test_naive_all_time_counts_leak_where_point_in_time_features_do_not():
    import lightgbm as lgb
    from sklearn.metrics import roc_auc_score

    from leadscore.config import ColumnsConfig
    from leadscore.data.activities import ACTIVITY_TYPES
    from leadscore.data.synthetic import generate_crm
    from leadscore.features.snapshots import snapshots_by_age

    crm = generate_crm(4_000, seed=21, activities=True)
    snaps = snapshots_by_age(crm.leads, columns=ColumnsConfig(), reference_date="2026-06-30", ages_days=(7,))
    snaps = snaps[~snaps["is_open"]].reset_index(drop=True)
    spec = ActivityFeatureSpec(types=ACTIVITY_TYPES)
    pit = point_in_time_features(crm.activities, snaps, spec=spec)
    naive = naive_all_time_features(crm.activities, snaps, types=ACTIVITY_TYPES)
    train = (snaps["lead_id"].rank(method="dense") / snaps["lead_id"].nunique() <= 0.7).to_numpy()
    y = snaps["label"].to_numpy()

    def held_out_auc(X: pd.DataFrame) -> float:
        model = lgb.LGBMClassifier(n_estimators=60, learning_rate=0.1, num_leaves=15, n_jobs=1, verbose=-1)
        model.fit(X[train], y[train])
        return float(roc_auc_score(y[~train], model.predict_proba(X[~train])[:, 1]))

    auc_pit = held_out_auc(pit[spec.feature_names()])
    auc_naive = held_out_auc(naive.filter(regex=r"^n_.*_all$"))
    print(f"age 7 days, test AUC: point in time {auc_pit:.3f}, naive all-time {auc_naive:.3f}")
    assert auc_naive > 0.95
    assert 0.6 < auc_pit < auc_naive - 0.15


def test_unparseable_csv_timestamp_is_one_clear_error(tmp_path, snapshots):
    (tmp_path / "log.csv").write_text(
        "lead_id,timestamp,activity_type\nA,2026-03-01 10:00:00,web_visit\nA,yesterday,web_visit\n"
    )
    with pytest.raises(DataValidationError, match=r"log\.csv: .*\"yesterday\".*column timestamp"):
        point_in_time_features(tmp_path / "log.csv", snapshots, spec=SPEC)


def test_no_snapshots_gives_an_empty_table_with_the_feature_columns(events, snapshots):
    out = point_in_time_features(events, snapshots.iloc[:0], spec=SPEC)
    assert len(out) == 0
    assert list(out.columns) == [*snapshots.columns, *SPEC.feature_names()]
