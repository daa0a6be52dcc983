"""Why this lead? TreeSHAP reasons: exactness, mapping to source columns, formatting, behaviour."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from leadscore.models.explain import (
    EXPECTED_VALUE,
    MIN_EFFECT,
    REASON_COLUMNS,
    REASON_SEPARATOR,
    GroupReasons,
    conversion_adjustments,
    feature_sources,
    format_effects,
    format_value,
    global_importance,
    group_reasons,
    humanise,
    lightgbm_model,
    quadrant_summaries,
    shap_contributions,
    source_contributions,
)
from leadscore.models.scorer import SCORE_COLUMNS

REASON = re.compile(r"^(?P<label>[^:]+): (?P<value>.*) \((?P<effect>[+-]\d+\.\d\d)\)$")


def _parse(text: str) -> list[tuple[str, str, float]]:
    """'Label: value (+0.12); ...' -> [(label, value, effect), ...]."""
    if not isinstance(text, str) or not text:
        return []
    out = []
    for part in text.split(REASON_SEPARATOR):
        m = REASON.match(part)
        assert m, f"reason not in 'Label: value (+effect)' form: {part!r}"
        out.append((m["label"], m["value"], float(m["effect"])))
    return out


# -- tiny hand-made frames ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "text"),
    [
        (7, "7"),
        (1211, "1,211"),
        (3145000.0, "3,145,000"),
        (1.875, "1.88"),
        (0.5, "0.5"),
        (True, "yes"),
        (np.False_, "no"),
        (None, "missing"),
        (np.nan, "missing"),
        (pd.NA, "missing"),
        ("  Software ", "Software"),
        ("", "missing"),
        ("a; b", "a, b"),
    ],
)
def test_format_value(value, text):
    assert format_value(value) == text


def test_humanise_and_effects():
    assert humanise("pricing_page_views") == "Pricing page views"
    assert humanise("web_visits_30d") == "Web visits 30d"
    assert format_effects(np.array([0.614, -0.4, 0.004999, -1.0])).tolist() == ["+0.61", "-0.40", "+0.00", "-1.00"]


def _values(frame: pd.DataFrame):
    return lambda source, rows: np.asarray([format_value(v) for v in frame[source].to_numpy()[rows]], dtype=object)


def test_group_reasons_orders_by_effect_and_drops_negligible_ones():
    raw = pd.DataFrame({"a": [1, 2], "b": ["x", None], "c": [True, False], "d": [0.5, 0.25]})
    effects = pd.DataFrame({"a": [0.5, -0.2], "b": [0.9, -0.7], "c": [-0.3, MIN_EFFECT / 2], "d": [0.1, 0.3]})
    reasons = group_reasons(effects, _values(raw), labels={"b": "Bee"}, top_k=2)
    assert reasons.reasons_for.tolist() == ["Bee: x (+0.90); A: 1 (+0.50)", "D: 0.25 (+0.30)"]
    assert reasons.reasons_against.tolist() == ["C: yes (-0.30)", "Bee: missing (-0.70); A: 2 (-0.20)"]
    assert reasons.top_for.tolist() == [[1, 0], [3, -1]]
    summary = quadrant_summaries(np.array([True, False]), np.array([False, True]), reasons, reasons)
    assert summary.tolist() == [
        "High fit thanks to Bee and A; low intent held back by C.",
        "Low fit held back by Bee and A; high intent thanks to D.",
    ]


def _reasons(labels: list[str], top_for: list[list[int]], top_against: list[list[int]]) -> GroupReasons:
    n = len(top_for)
    empty = np.full(n, "", dtype=object)  # quadrant_summaries only reads the top indices and labels
    return GroupReasons(empty, empty, np.array(top_for), np.array(top_against), labels)


def test_quadrant_summaries_stay_exact_with_150_source_columns():
    """Cell keys combine (level, reason, reason) in base len(labels) + 1: with 150 sources, indices above 99
    must neither collide (a decimal base of 100 would map (1, 101) and (2, 1) to one key) nor be misread."""
    fit_labels = [f"fit col {i}" for i in range(150)]
    intent_labels = [f"intent col {i}" for i in range(150)]
    # Unused sides (top_against of a high lead, top_for of a low one) hold 0s that must not show up.
    fit = _reasons(
        fit_labels,
        top_for=[[149, 100], [1, 101], [2, 1], [0, 0], [99, 148], [100, -1]],
        top_against=[[0, 0], [0, 0], [0, 0], [120, -1], [0, 0], [101, 149]],
    )
    intent = _reasons(
        intent_labels,
        top_for=[[0, 0], [148, 149], [0, 0], [0, 0], [0, 0], [0, 0]],
        top_against=[[101, 1], [0, 0], [-1, -1], [149, 100], [102, 0], [140, 141]],
    )
    high_fit = np.array([True, True, True, False, True, True])
    high_intent = np.array([False, True, False, False, False, False])
    summary = quadrant_summaries(high_fit, high_intent, fit, intent)
    assert summary.tolist() == [
        "High fit thanks to fit col 149 and fit col 100; low intent held back by intent col 101 and intent col 1.",
        "High fit thanks to fit col 1 and fit col 101; high intent thanks to intent col 148 and intent col 149.",
        "High fit thanks to fit col 2 and fit col 1; low intent.",
        "Low fit held back by fit col 120; low intent held back by intent col 149 and intent col 100.",
        "High fit thanks to fit col 99 and fit col 148; low intent held back by intent col 102 and intent col 0.",
        "High fit thanks to fit col 100; low intent held back by intent col 140 and intent col 141.",
    ]


def test_conversion_adjustments_name_material_segment_terms_strongest_first():
    terms = pd.DataFrame({"seniority": [0.31, 0.0, -0.2, 0.001], "answer": [1.79, 0.0, 0.05, 0.0]})
    levels = pd.DataFrame({"seniority": ["vp", "other", "student", "vp"], "answer": ["career", "", "x", "y"]})
    texts = conversion_adjustments(terms, levels, {"answer": "What matters"}, min_effect=0.01)
    assert texts.tolist() == [
        " Conversion adjusted for What matters: career (+1.79); Seniority: vp (+0.31).",
        "",  # no term of its own: nothing to say
        " Conversion adjusted for Seniority: student (-0.20); What matters: x (+0.05).",
        "",  # below min_effect
    ]
    assert conversion_adjustments(terms.iloc[:, :0], levels, {}, min_effect=0.01).tolist() == [""] * 4


def test_source_contributions_sum_engineered_features():
    contributions = pd.DataFrame(
        {
            "job_title_seniority": [0.5, -0.1],
            "job_title_department": [0.2, 0.3],
            "employees": [1.0, 2.0],
            EXPECTED_VALUE: [-2.0, -2.0],
        }
    )
    sources = {"job_title_seniority": "job_title", "job_title_department": "job_title", "employees": "employees"}
    out = source_contributions(contributions, sources)
    assert list(out.columns) == ["job_title", "employees"]
    np.testing.assert_allclose(out["job_title"], [0.7, 0.2])
    np.testing.assert_allclose(out["employees"], [1.0, 2.0])


# -- the trained scorer ---------------------------------------------------------------------------------
@pytest.fixture
def open_leads(trained_scorer):
    _, raw = trained_scorer
    return raw[raw["status"] == "open"].head(400).reset_index(drop=True)


@pytest.mark.parametrize("group", ["fit", "intent"])
def test_contributions_plus_expected_value_equal_the_raw_margin(trained_scorer, group):
    scorer, raw = trained_scorer
    X = dict(zip(("fit", "intent"), scorer.featurizer.transform(raw), strict=False))[group]
    model = lightgbm_model(getattr(scorer, f"{group}_model"))
    contributions = shap_contributions(getattr(scorer, f"{group}_model"), X)
    margin = model.booster_.predict(X, raw_score=True, num_iteration=model.best_iteration_)
    np.testing.assert_allclose(contributions.sum(axis=1).to_numpy(), margin, rtol=0, atol=1e-9)
    # Cell deduplication is exact: the same numbers as LightGBM's own pred_contrib on every lead.
    sample = X.sample(1500, random_state=0)
    reference = model.booster_.predict(sample, pred_contrib=True, num_iteration=model.best_iteration_)
    np.testing.assert_allclose(contributions.loc[sample.index].to_numpy(), reference, rtol=0, atol=1e-9)


def test_source_contributions_keep_the_total(trained_scorer):
    scorer, raw = trained_scorer
    X_fit, _ = scorer.featurizer.transform(raw.head(2000))
    contributions = shap_contributions(scorer.fit_model, X_fit)
    by_source = source_contributions(contributions, feature_sources(scorer.featurizer))
    assert "job_title" in by_source.columns and "job_title_seniority" not in by_source.columns
    np.testing.assert_allclose(by_source.sum(axis=1), contributions.drop(columns=EXPECTED_VALUE).sum(axis=1), atol=1e-9)


def test_explain_adds_reason_columns_and_keeps_the_scores(trained_scorer, open_leads):
    scorer, _ = trained_scorer
    plain = scorer.predict(open_leads)
    explained = scorer.predict(open_leads, explain=True)
    assert list(plain.columns) == ["lead_id", *SCORE_COLUMNS]
    assert list(explained.columns) == ["lead_id", *SCORE_COLUMNS, *REASON_COLUMNS]
    pd.testing.assert_frame_equal(explained[plain.columns], plain)
    for column in REASON_COLUMNS[:4]:
        parsed = explained[column].map(_parse)
        assert parsed.map(len).between(0, 3).all()
        sign = 1 if column.endswith("_for") else -1
        assert all(sign * effect > 0 for reasons in parsed for _, _, effect in reasons)
        # Reasons are ordered from the strongest.
        assert all([abs(e) for *_, e in r] == sorted((abs(e) for *_, e in r), reverse=True) for r in parsed)
    assert explained["fit_reasons_for"].str.len().gt(0).mean() > 0.5
    high_fit = explained["quadrant"].str.startswith("high_fit")
    assert explained.loc[high_fit, "quadrant_summary"].str.startswith("High fit").all()
    assert explained.loc[~high_fit, "quadrant_summary"].str.startswith("Low fit").all()


def test_more_pricing_page_views_is_a_reason_for_intent(trained_scorer, open_leads):
    scorer, _ = trained_scorer
    base = scorer.predict(open_leads, explain=True)["intent_reasons_for"].map(_parse)
    more = scorer.predict(open_leads.assign(pricing_page_views=open_leads["pricing_page_views"] + 10), explain=True)
    reasons = more["intent_reasons_for"].map(_parse)

    def pricing(rs):
        return [(value, effect) for label, value, effect in rs if label == "Pricing-page views"]

    listed = reasons.map(pricing)
    assert listed.map(len).mean() > 0.9 > base.map(pricing).map(len).mean()
    assert all(effect > 0 for hits in listed for _, effect in hits)
    # The lead's own (raised) value is shown.
    shown = {int(v) for hits in listed for v, _ in hits}
    assert min(shown) >= 10


def test_webmail_is_a_reason_against_fit_where_learned(trained_scorer, open_leads):
    scorer, raw = trained_scorer
    X_fit, _ = scorer.featurizer.transform(raw)
    effects = source_contributions(shap_contributions(scorer.fit_model, X_fit), feature_sources(scorer.featurizer))
    webmail = (raw["email_domain_type"].str.strip().str.casefold() == "webmail").to_numpy()
    # The synthetic truth penalises webmail (-0.6 on the logit): the model must have learned it.
    assert effects.loc[webmail, "email_domain_type"].mean() < 0 < effects.loc[~webmail, "email_domain_type"].mean()
    out = scorer.predict(open_leads.assign(email_domain_type="webmail"), explain=True)
    against = out["fit_reasons_against"].map(_parse)
    hits = against.map(lambda rs: [e for label, value, e in rs if label == "Email domain" and value == "webmail"])
    assert hits.map(len).mean() > 0.5
    assert all(e < 0 for h in hits for e in h)
    assert not out["fit_reasons_for"].str.contains("Email domain: webmail").any()


def test_global_importance_and_figure(trained_scorer, open_leads):
    from leadscore.evaluation.importance import importance_figure

    scorer, _ = trained_scorer
    importance = global_importance(scorer, open_leads)
    assert set(importance["model"]) == {"fit", "intent"}
    # Each source column's importance is the mean |contribution| LightGBM itself reports for its
    # features (a single-feature column: that feature's pred_contrib column), on the same leads.
    X_fit, _ = scorer.featurizer.transform(open_leads)
    model = lightgbm_model(scorer.fit_model)
    native = model.booster_.predict(X_fit, pred_contrib=True)[:, list(X_fit.columns).index("employees")]
    shown = importance.set_index(["model", "column"]).loc[("fit", "employees"), "mean_abs_shap"]
    assert shown == pytest.approx(np.abs(native).mean(), abs=1e-9) and shown > 0.01
    for group in ("fit", "intent"):
        values = importance.loc[importance["model"] == group, "mean_abs_shap"].to_numpy()
        assert (np.diff(values) <= 0).all()  # most important first
    fit_columns = set(importance.loc[importance["model"] == "fit", "column"])
    assert {"job_title", "email_domain_type", "employees"} <= fit_columns
    assert "pricing_page_views" in set(importance.loc[importance["model"] == "intent", "column"])
    fig = importance_figure(importance, model="intent")
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert "Pricing-page views" in labels
    with pytest.raises(ValueError, match="no importance rows"):
        importance_figure(importance, model="nope")


def test_column_names_with_spaces_keep_their_names():
    """LightGBM stores "What is your occupation" as "What_is_your_occupation"; reasons must not break."""
    import lightgbm as lgb

    from leadscore.models.explain import shap_contributions

    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        {
            "What is your occupation": pd.Categorical(rng.choice(["a", "b", "c"], 400)),
            "Total Visits": rng.poisson(3, 400).astype(float),
        }
    )
    y = ((X["Total Visits"] > 3) | (X["What is your occupation"] == "a")).astype(int)
    model = lgb.LGBMClassifier(n_estimators=20, verbose=-1).fit(X, y)
    contributions = shap_contributions(model, X)
    assert list(contributions.columns[:2]) == list(X.columns)
    np.testing.assert_allclose(contributions.sum(axis=1), model.predict(X, raw_score=True), atol=1e-9)


def test_a_segment_conversion_model_says_what_it_adds_in_the_quadrant_summary(trained_scorer, open_leads):
    """With a segment_spline conversion model the probability also moves by the lead's segment levels:
    the summary names each material one, with the log-odds it adds (the model's own terms)."""
    import dataclasses

    from leadscore.models.calibration import SegmentSplineConversion, conversion_inputs

    scorer, raw = trained_scorer
    closed = raw[raw["status"] != "open"].reset_index(drop=True)
    X_fit, X_intent = scorer.featurizer.transform(closed)
    p_fit, p_intent = scorer.fit_model.predict_proba(X_fit)[:, 1], scorer.intent_model.predict_proba(X_intent)[:, 1]
    segments = ("industry", "job_title_seniority")
    model = SegmentSplineConversion(segments=segments).fit(
        conversion_inputs(p_fit, p_intent, X_fit, segments=segments), (closed["status"] == "won").astype(int)
    )
    forced = dataclasses.replace(scorer, conversion_model=model)
    plain = scorer.predict(open_leads, explain=True)
    explained = forced.predict(open_leads, explain=True)
    # The fit and intent parts are the same sentence; what follows is the conversion model's.
    assert all(s.startswith(p) for s, p in zip(explained["quadrant_summary"], plain["quadrant_summary"], strict=True))
    X_open, _ = forced.featurizer.transform(open_leads)
    terms = model.segment_terms(
        conversion_inputs(explained["fit_probability"], explained["intent_probability"], X_open, segments=segments)
    )
    min_effect = scorer.extras.get("explain", {}).get("min_effect", MIN_EFFECT)
    said = 0
    for i, summary in enumerate(explained["quadrant_summary"]):
        tail = summary[len(plain.loc[i, "quadrant_summary"]) :]
        expected = terms.iloc[i][terms.iloc[i].abs() >= min_effect]
        if expected.empty:
            assert tail == ""
            continue
        said += 1
        parsed = _parse(tail.removeprefix(" Conversion adjusted for ").removesuffix("."))
        order = expected.abs().sort_values(ascending=False, kind="stable").index
        assert [label for label, _, _ in parsed] == [humanise(c) for c in order]
        assert [v for _, v, _ in parsed] == [str(X_open.loc[i, c]) for c in order]
        np.testing.assert_allclose([e for *_, e in parsed], expected[order].to_numpy(), atol=0.005 + 1e-9)
    assert said > len(open_leads) / 2  # most leads have a level the model kept
