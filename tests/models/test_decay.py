import numpy as np
import pandas as pd
import pytest

from leadscore.config import ColumnsConfig
from leadscore.data.activities import ACTIVITY_TYPES, POST_OUTCOME_TYPES
from leadscore.data.outcomes import CALIBRATION, TEST, TRAIN
from leadscore.data.synthetic import generate_crm
from leadscore.errors import DataValidationError
from leadscore.features.activity import ActivityFeatureSpec, point_in_time_features
from leadscore.models.decay import candidate_columns, choose_decay

TYPES = tuple(t for t in ACTIVITY_TYPES if t not in POST_OUTCOME_TYPES)
WINDOW_SETS = ((7, 30), (30,))
HALF_LIFE_SETS = ((1, 7), (30,))


@pytest.fixture(scope="module")
def frame():
    """Snapshots at ages 1/7/14 of 4,000 synthetic leads with every candidate's features, split by lead."""
    from leadscore.features.snapshots import snapshots_by_age

    crm = generate_crm(4_000, seed=5, activities=True)
    snaps = snapshots_by_age(crm.leads, columns=ColumnsConfig(), reference_date="2026-06-30", ages_days=(1, 7, 14))
    snaps = snaps[~snaps["is_open"]].reset_index(drop=True)
    spec = ActivityFeatureSpec(types=TYPES, windows_days=(7, 30), half_lives_days=(1, 7, 30))
    features = point_in_time_features(crm.activities, snaps, spec=spec)
    # By lead, in creation order: all of a lead's snapshots in one split.
    order = features["lead_id"].rank(method="dense") / features["lead_id"].nunique()
    split = np.select([order <= 0.6, order <= 0.8], [TRAIN, CALIBRATION], TEST)
    return features, pd.Series(split)


def test_picks_the_best_calibration_log_loss(frame):
    features, split = frame
    choice = choose_decay(
        features,
        labels=features["label"],
        splits=split,
        weights=features["weight"],
        types=TYPES,
        window_sets=WINDOW_SETS,
        half_life_sets=HALF_LIFE_SETS,
        n_estimators=30,
    )
    table = choice.table
    assert len(table) == 4 and table["chosen"].sum() == 1
    assert table["calibration_log_loss"].is_monotonic_increasing
    best = table.iloc[0]
    assert (choice.windows_days, choice.half_lives_days) == (best["windows_days"], best["half_lives_days"])
    assert best["n_features"] == len(candidate_columns(TYPES, best["windows_days"], best["half_lives_days"]))
    assert (table["calibration_auc"] > 0.6).all()


def test_never_reads_the_test_split(frame):
    features, split = frame
    kwargs = {"types": TYPES, "window_sets": WINDOW_SETS, "half_life_sets": HALF_LIFE_SETS, "n_estimators": 30}
    a = choose_decay(features, labels=features["label"], splits=split, **kwargs)
    test = (split == TEST).to_numpy()
    scrambled = features.copy()
    feature_cols = [c for c in features.columns if c.startswith(("n_", "decay_", "days_since_", "momentum_"))]
    scrambled.loc[test, feature_cols] = np.random.default_rng(0).permutation(
        scrambled.loc[test, feature_cols].to_numpy()
    )
    labels = features["label"].where(~test, 1.0 - features["label"])
    b = choose_decay(scrambled, labels=labels, splits=split, **kwargs)
    pd.testing.assert_frame_equal(a.table, b.table)


def test_errors(frame):
    features, split = frame
    kwargs = {"types": TYPES, "window_sets": WINDOW_SETS, "half_life_sets": HALF_LIFE_SETS}
    with pytest.raises(DataValidationError, match="calibration split needs won and lost"):
        choose_decay(features, labels=features["label"], splits=split.replace(CALIBRATION, TEST), **kwargs)
    with pytest.raises(DataValidationError, match="decay_web_visit_90d"):
        choose_decay(
            features, labels=features["label"], splits=split, types=TYPES, window_sets=((7,),), half_life_sets=((90,),)
        )
