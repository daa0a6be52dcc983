"""The one place params.yaml is read: typed, frozen, validated configuration objects.

Every section is a frozen pydantic model with ``extra="forbid"``, so a typo in a key or a value of
the wrong type stops the pipeline at load time with one message that names the key, instead of a
``KeyError`` deep inside a stage.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from leadscore.errors import ConfigError


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --- synthetic CRM drift (issue 11, monitoring lane) ------------------------------------------------
class SyntheticDriftConfig(_Frozen):
    """A CRM that moves (params data.synthetic.drift): off by default, so the default leads are unchanged.

    The base rate rises over the window (``base_rate_logit_rise`` log-odds added by its end, linearly
    in time); from ``effect_change_at`` (share of the window) on, ``shifted_column``'s effect on the
    true log-odds is multiplied by ``effect_multiplier``; from ``shift_from`` on, that column's
    observed counts grow by a Poisson(``shift_extra``) draw (a distribution shift for the drift report);
    each column in ``also_shifted`` grows by its own Poisson(``also_shifted_extra``) draw from then on
    (its effect on the truth unchanged).
    """

    enabled: bool = False
    base_rate_logit_rise: float = 0.8
    shifted_column: Literal["pricing_page_views", "content_downloads", "web_visits_30d"] = "pricing_page_views"
    effect_change_at: float = Field(0.5, ge=0, le=1)
    effect_multiplier: float = 2.0
    shift_from: float = Field(0.85, ge=0, le=1)
    shift_extra: float = Field(4.0, ge=0)
    also_shifted: tuple[Literal["pricing_page_views", "content_downloads", "web_visits_30d"], ...] = ()
    also_shifted_extra: float = Field(4.0, ge=0)

    @model_validator(mode="after")
    def _distinct_columns(self) -> SyntheticDriftConfig:
        if self.shifted_column in self.also_shifted or len(set(self.also_shifted)) < len(self.also_shifted):
            raise ValueError("also_shifted: list other columns than shifted_column, each once")
        return self


class SyntheticConfig(_Frozen):
    n_leads: int = Field(100_000, gt=0)
    seed: int = 42
    reference_date: str = "2026-06-30"
    months: int = Field(24, gt=0)
    # --- activity log (issue 14) ---
    # true: the generator also writes the leads' activity log (leadscore.data.activities).
    activities: bool = False
    drift: SyntheticDriftConfig = SyntheticDriftConfig()
    # Issue 15: the truth function. "additive": the default smooth logit; "interactions": the second
    # world (segment-dependent intent, thresholds, saturation, non-monotone effects; see data/synthetic.py).
    world: Literal["additive", "interactions"] = "additive"


# The embedded generator's module. data.source names it (rather than a keyword such as "synthetic")
# so that dvc.yaml can always list ${data.source} as the generate stage's dependency: a real file
# both for the synthetic CRM (its code) and for an export (its bytes).
SYNTHETIC_SOURCE = "src/leadscore/data/synthetic.py"


class DataConfig(_Frozen):
    source: str = SYNTHETIC_SOURCE
    csv_separator: str = ","
    missing_values: tuple[str, ...] = ()
    # True when the export has no lead id: generate numbers its rows 1..n, in file order, into
    # columns.id (refusing if that column already exists).
    add_row_id: bool = False
    synthetic: SyntheticConfig = SyntheticConfig()

    @property
    def is_synthetic(self) -> bool:
        # "synthetic" still works for programmatic use; dvc.yaml needs the path.
        return self.source == "synthetic" or Path(self.source).as_posix().endswith("leadscore/data/synthetic.py")


class ColumnsConfig(_Frozen):
    id: str = "lead_id"
    created_at: str | None = "created_at"
    status: str = "status"
    won_values: tuple[Any, ...] = ("won",)
    lost_values: tuple[Any, ...] = ("lost",)
    open_values: tuple[Any, ...] = ("open",)
    # Issue 11: when each outcome became known (dates). Set, nothing trains on an outcome that was not
    # known at the training cut-off (see leadscore.data.outcomes.assign_splits).
    closed_at: str | None = None
    # strftime format of created_at when it is text, e.g. "%d/%m/%Y". Without it, dates are parsed
    # from their shape, and a column whose day-first and month-first readings disagree is refused.
    date_format: str | None = None

    @model_validator(mode="after")
    def _disjoint(self) -> ColumnsConfig:
        won, lost, open_ = set(self.won_values), set(self.lost_values), set(self.open_values)
        if won & lost or won & open_ or lost & open_:
            raise ValueError("won_values, lost_values and open_values must not share a value")
        if not won or not lost:
            raise ValueError("won_values and lost_values must each list at least one value")
        return self


class FeaturesConfig(_Frozen):
    fit: tuple[str, ...]
    intent: tuple[str, ...]
    job_title_columns: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    ratios: dict[str, tuple[str, str]] = {}
    category_aliases: dict[str, dict[str, str]] = {}
    min_category_count: int = Field(20, ge=1)
    # Columns treated as categories whatever their dtype (integer-coded regions, operating systems...).
    categorical: tuple[str, ...] = ()
    # Leakage guard (features/leakage.py): a feature whose AUC *alone* on the train split exceeds
    # the threshold is a suspected leak. "warn" reports it (the default: a strong feature is not
    # proof of a leak, a human should decide), "drop" removes it before training, "fail" stops.
    leak_auc_threshold: float = Field(0.85, gt=0.5, le=1.0)
    on_suspected_leak: Literal["warn", "drop", "fail"] = "warn"
    # A used column whose AUC alone reaches strong_leak_auc stops the run under "warn" too (a perfect
    # separator is almost never a legitimate lead feature) unless it is listed in allow_strong.
    strong_leak_auc: float = Field(0.98, gt=0.5, le=1.0)
    allow_strong: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _groups_disjoint(self) -> FeaturesConfig:
        both = sorted(set(self.fit) & set(self.intent))
        if both:
            raise ValueError(f"columns listed in both fit and intent: {both}")
        # One group may be empty (a pure opportunity table has no engagement data): that axis of the
        # quadrants is then missing, and said so. Both empty leaves nothing to learn from.
        if not self.fit_columns and not self.intent_columns:
            raise ValueError("fit and intent are both empty after `exclude`: list at least one column in either")
        for title in self.job_title_columns:
            if title not in self.fit and title not in self.intent:
                raise ValueError(f"job title column {title!r} is in neither fit nor intent")
        for name, listed in (("categorical", self.categorical), ("allow_strong", self.allow_strong)):
            unknown = [c for c in listed if c not in self.fit and c not in self.intent and c not in self.ratios]
            if unknown:
                raise ValueError(f"{name} lists {unknown}, which are in neither fit nor intent")
        if self.leak_auc_threshold > self.strong_leak_auc:
            raise ValueError("leak_auc_threshold must be at most strong_leak_auc")
        return self

    @property
    def empty_groups(self) -> tuple[str, ...]:
        """Groups ("fit", "intent") with no column after ``exclude``: that quadrant axis is missing."""
        return tuple(g for g, cols in (("fit", self.fit_columns), ("intent", self.intent_columns)) if not cols)

    @property
    def fit_columns(self) -> tuple[str, ...]:
        return tuple(c for c in self.fit if c not in self.exclude)

    @property
    def intent_columns(self) -> tuple[str, ...]:
        return tuple(c for c in self.intent if c not in self.exclude)


class SplitConfig(_Frozen):
    # time: by columns.created_at (dates, or a number read as an order such as a lead number);
    # row_order: by position in the export (rows already in time order); stratified: seeded, by
    # outcome. "time" with columns.created_at null falls back to stratified (stated in the report).
    method: Literal["time", "row_order", "stratified"] = "time"
    # A column naming the account (or any group): all rows of a group fall in one split, so account-
    # level columns are not memorised across train and test. null: rows are split one by one.
    group: str | None = None
    train: float = Field(0.6, gt=0, lt=1)
    calibration: float = Field(0.2, gt=0, lt=1)
    test: float = Field(0.2, gt=0, lt=1)
    early_stopping: float = Field(0.1, gt=0, lt=1)
    seed: int = 42

    @model_validator(mode="after")
    def _sums_to_one(self) -> SplitConfig:
        total = self.train + self.calibration + self.test
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"train + calibration + test must be 1.0, got {total:g}")
        return self


class LightGBMConfig(_Frozen):
    n_estimators: int = Field(2000, gt=0)
    learning_rate: float = Field(0.03, gt=0)
    num_leaves: int = Field(4, ge=2)
    min_child_samples: int = Field(100, ge=1)
    subsample: float = Field(0.8, gt=0, le=1)
    colsample_bytree: float = Field(0.8, gt=0, le=1)
    reg_lambda: float = Field(1.0, ge=0)
    monotone_increasing: tuple[str, ...] = ()


class TuneConfig(_Frozen):
    """Hyperparameter search (issue 15, params train.tune): off by default.

    Optuna's TPE sampler (seeded by ``seed``) searches each group's LightGBM parameters on
    ``n_folds`` time-ordered folds inside the train split (never calibration or test), minimising
    log loss. ``n_trials`` trials at most; ``timeout_seconds`` (null: none) stops the search early,
    and a search cut short by it can differ between machines (the report says whether it was).
    """

    enabled: bool = False
    n_trials: int = Field(30, ge=1)
    timeout_seconds: float | None = Field(None, gt=0)
    seed: int = 42
    n_folds: int = Field(3, ge=1, le=10)


class TrainConfig(_Frozen):
    seed: int = 42
    early_stopping_rounds: int = Field(50, gt=0)
    # LightGBM threads per model (the stages, the all-features baseline and the backtest's retrainings).
    # 1: on 2 cores shared with other work a second OpenMP thread mostly waits (2 threads measured 2-8x slower).
    n_jobs: int = Field(1, ge=1)
    fit: LightGBMConfig = LightGBMConfig()
    intent: LightGBMConfig = LightGBMConfig()
    # Issue 15: train the intent model on top of the fit model's log-odds (LightGBM init_score), so it
    # learns what engagement adds for a lead of that fit instead of re-learning fit through intent
    # columns that correlate with it. False: each model on its own outcome, independently.
    intent_given_fit: bool = True
    tune: TuneConfig = TuneConfig()  # issue 15


class CalibrateWindowConfig(_Frozen):
    # Issue 11: calibrate on the most recent closed leads instead of the fixed calibration split.
    # "split": the calibration split (default); "share": the most recent `value` share of closed leads;
    # "months": closed leads created in the last `value` calendar months (created_at must be dates).
    method: Literal["split", "share", "months"] = "split"
    value: float | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _value(self) -> CalibrateWindowConfig:
        if self.method != "split" and self.value is None:
            raise ValueError(f"window.method {self.method!r} needs a value")
        if self.method == "share" and self.value is not None and not 0 < self.value < 1:
            raise ValueError("window.value: a share must be between 0 and 1")
        return self


class CalibrateConfig(_Frozen):
    method: Literal["isotonic", "sigmoid"] = "sigmoid"
    window: CalibrateWindowConfig = CalibrateWindowConfig()
    # Issue 15: the conversion models tried (leadscore.models.calibration.CONVERSION_KINDS); the one with
    # the lowest out-of-fold log loss on the calibration split (conversion_folds contiguous blocks) is kept.
    conversion_candidates: tuple[Literal["logistic", "spline", "monotone_gbm", "segment_spline"], ...] = ("logistic",)
    conversion_folds: int = Field(5, ge=2, le=20)

    @model_validator(mode="after")
    def _candidates(self) -> CalibrateConfig:
        if not self.conversion_candidates:
            raise ValueError(
                "conversion_candidates: name at least one of logistic, spline, monotone_gbm, segment_spline"
            )
        if len(set(self.conversion_candidates)) != len(self.conversion_candidates):
            raise ValueError(f"conversion_candidates: {list(self.conversion_candidates)} repeats a name")
        return self


class ThresholdConfig(_Frozen):
    method: Literal["base_rate", "probability", "top_share"] = "base_rate"
    value: float | None = Field(None, gt=0, lt=1)

    @model_validator(mode="after")
    def _value_when_needed(self) -> ThresholdConfig:
        if self.method != "base_rate" and self.value is None:
            raise ValueError(f"method {self.method!r} needs a `value` between 0 and 1")
        return self


class QuadrantsConfig(_Frozen):
    fit: ThresholdConfig = ThresholdConfig()
    intent: ThresholdConfig = ThresholdConfig()
    actions: dict[str, str] = {}


class CriterionConfig(_Frozen):
    """One BANT criterion: the lead passes when ``column`` satisfies the (single) condition.

    ``present: true`` passes when the column is filled in, ``present: false`` when it is blank
    (missing, empty text or one of ``data.missing_values``); every other condition fails on missing.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)
    column: str
    in_: tuple[Any, ...] | None = Field(None, alias="in")
    not_in: tuple[Any, ...] | None = None
    min: float | None = None
    max: float | None = None
    present: bool | None = None

    @model_validator(mode="after")
    def _one_condition(self) -> CriterionConfig:
        given = [k for k in ("in_", "not_in", "min", "max", "present") if getattr(self, k) is not None]
        if not given:
            raise ValueError("needs a condition: one of `in`, `not_in`, `min`, `max`, `present`")
        if len(given) > 1 and set(given) != {"min", "max"}:
            raise ValueError("give one condition (`in`, `not_in`, `present`) or a `min`/`max` range")
        return self


class BantConfig(_Frozen):
    min_criteria: int = Field(3, ge=1)
    criteria: dict[str, CriterionConfig]
    # Weighted points per criterion, like the lead-scoring rules of common CRM tools; only the
    # benchmark reads them (the "bant_points" scorer). None: one point per criterion.
    points: dict[str, float] | None = None

    @model_validator(mode="after")
    def _reachable(self) -> BantConfig:
        if self.min_criteria > len(self.criteria):
            raise ValueError(f"min_criteria={self.min_criteria} but only {len(self.criteria)} criteria are defined")
        if self.points is not None:
            if set(self.points) != set(self.criteria):
                raise ValueError(
                    f"points must give one weight per criterion {sorted(self.criteria)}, got {sorted(self.points)}"
                )
            if any(w < 0 for w in self.points.values()) or not any(w > 0 for w in self.points.values()):
                raise ValueError("points must be >= 0 with at least one above 0")
        return self

    @property
    def point_weights(self) -> dict[str, float]:
        """Points per criterion (one each when ``points`` is not set)."""
        return dict(self.points) if self.points is not None else dict.fromkeys(self.criteria, 1.0)


class BootstrapConfig(_Frozen):
    n: int = Field(200, ge=10, le=10_000)
    seed: int = 42
    level: float = Field(0.95, gt=0.5, lt=1)


class SalesCapacityConfig(_Frozen):
    reps: int = Field(5, ge=1)
    leads_per_rep: int = Field(500, ge=1)

    @property
    def leads(self) -> int:
        return self.reps * self.leads_per_rep


class GuardsConfig(_Frozen):
    """Minimum history before the pipeline trains (counts over all closed leads of the export).

    Below ``min_closed`` closed leads or ``min_wins`` wins the run stops; below ``warn_closed`` /
    ``warn_wins`` it warns. The refusal levels follow commercial tools (~1,000 leads and ~120
    conversions); the warning levels are where our time split leaves a few hundred wins to train on.
    """

    min_closed: int = Field(1000, ge=10)
    min_wins: int = Field(120, ge=2)
    warn_closed: int = Field(5000, ge=10)
    warn_wins: int = Field(500, ge=2)

    @model_validator(mode="after")
    def _ordered(self) -> GuardsConfig:
        if self.warn_closed < self.min_closed or self.warn_wins < self.min_wins:
            raise ValueError("warn_closed/warn_wins must be at least min_closed/min_wins")
        return self


class EvaluateConfig(_Frozen):
    ece_bins: int = Field(10, ge=2)
    bootstrap: BootstrapConfig = BootstrapConfig()
    capacity: SalesCapacityConfig = SalesCapacityConfig()
    # Rule variants benchmarked beside BANT: "qualified when at least k criteria are met", per k.
    bant_variants: tuple[int, ...] = (2, 4)
    random_seed: int = 42
    # Regularisation of the logistic-regression baseline (inverse strength, scikit-learn's C).
    logistic_c: float = Field(1.0, gt=0)


class ExplainConfig(_Frozen):
    """Per-lead reasons: how many per group and direction, and plain-word labels for columns."""

    top_k: int = Field(3, ge=1, le=10)
    # A reason is shown only when its effect (log-odds) is at least this big; columns the leak audit
    # found uninformative (alone AUC < 0.52 on train, and mean |effect| below min_effect or a fifth of
    # the model's strongest column: leadscore.features.leakage.uninformative_columns) are never reasons.
    min_effect: float = Field(0.05, ge=0)
    labels: dict[str, str] = {}


class HistoryConfig(_Frozen):
    """Score history (``score --as-of --history``) and ``leadscore changes`` (issue 14)."""

    top_contributions: int = Field(5, ge=1, le=50)  # strongest TreeSHAP contributions kept per lead and group
    trend_tolerance: float = Field(0.02, ge=0, lt=1)  # |fitted change of p_conversion| up to this: steady
    min_reason_delta: float = Field(0.05, ge=0)  # a reason whose contribution moved less (log-odds) is not shown
    max_reasons: int = Field(3, ge=1, le=20)  # reasons shown per lead
    top: int = Field(20, ge=1)  # leads shown by default


# --- activity log (issue 14): intent from an event log, point in time ------------------------------
class ActivityColumnsConfig(_Frozen):
    """Column roles in the activity log (one row per event)."""

    lead_id: str = "lead_id"
    timestamp: str = "timestamp"
    activity_type: str = "activity_type"
    value: str | None = "value"
    channel: str | None = "channel"


_Days = Annotated[float, Field(gt=0)]


class ActivitiesConfig(_Frozen):
    """Where the activity log is and how intent is built from it (all optional: off by default)."""

    # A .csv/.parquet file or a directory of them; null: no activity log (lead-table intent only).
    source: str | None = None
    columns: ActivityColumnsConfig = ActivityColumnsConfig()
    # Activity types to featurize; empty: every type found in the log.
    types: tuple[str, ...] = ()
    # Candidates tried on the calibration split (leadscore.models.decay.choose_decay): every window set
    # with every half-life set; the best calibration log loss wins and is written to the report.
    window_candidates: tuple[tuple[_Days, ...], ...] = ((7, 30, 90), (7, 30), (14, 60))
    half_life_candidates: tuple[tuple[_Days, ...], ...] = ((1, 7), (3, 14, 60), (7, 30), (14, 60, 180))
    momentum_days: tuple[_Days, _Days] = (7, 21)  # last 7 days vs the 21 days before
    # Closed leads become one training example per age (days after creation) at which they were open.
    snapshot_ages_days: tuple[Annotated[float, Field(ge=0)], ...] = (1, 7, 14, 30)
    label_horizon_days: float | None = Field(None, gt=0)  # null: label = won eventually
    # Lead-table intent columns known at creation and never updated (e.g. lead_source) kept beside
    # the log's features; every other intent column of the lead table is a pre-aggregated snapshot.
    static_intent: tuple[str, ...] = ()
    # When open leads are scored (and the log was exported): null means the synthetic CRM's
    # reference date, or for a real log the day after its last event.
    reference_date: str | None = None
    # DuckDB limits for featurizing (it spills to disk beyond memory_limit).
    threads: int = Field(2, ge=1)
    memory_limit: str = "1GB"

    @model_validator(mode="after")
    def _non_empty(self) -> ActivitiesConfig:
        if not self.window_candidates or any(not c for c in self.window_candidates):
            raise ValueError("window_candidates must list at least one non-empty set of days, e.g. [[7, 30, 90]]")
        if not self.half_life_candidates or any(not c for c in self.half_life_candidates):
            raise ValueError("half_life_candidates must list at least one non-empty set of days, e.g. [[3, 14, 60]]")
        if not self.snapshot_ages_days:
            raise ValueError("snapshot_ages_days must list at least one age in days, e.g. [1, 7, 14, 30]")
        return self


# --- monitoring: drift, outcome monitoring, champion vs challenger (issue 11, monitoring lane) --------
class DriftConfig(_Frozen):
    """Drift at scoring time: PSI thresholds and how reference distributions are binned."""

    warn: float = Field(0.1, gt=0)
    alert: float = Field(0.25, gt=0)
    bins: int = Field(10, ge=2, le=100)  # quantile bins per numeric column (plus one for missing)
    max_categories: int = Field(20, ge=1)  # categories kept per text column; the rest pool into "other"
    max_known: int = Field(1000, ge=1)  # distinct values remembered to measure the unseen share

    @model_validator(mode="after")
    def _ordered(self) -> DriftConfig:
        if self.alert < self.warn:
            raise ValueError("alert must be at least warn")
        return self


class MonitorConfig(_Frozen):
    """Outcome monitoring: when scored leads' outcomes say to recalibrate or to retrain."""

    max_ece: float = Field(0.05, gt=0, lt=1)  # ECE above this: recalibrate
    max_calibration_gap: float = Field(0.03, gt=0, lt=1)  # |mean predicted - observed rate| above: recalibrate
    max_auc_drop: float = Field(0.03, ge=0, lt=1)  # AUC below the reference AUC by more: retrain
    min_auc_over_bant: float = Field(0.0, ge=0, lt=1)  # AUC not above BANT's by this much: retrain
    min_outcomes: int = Field(200, ge=10)
    min_wins: int = Field(20, ge=1)
    ece_bins: int = Field(10, ge=2)


class PromotionConfig(_Frozen):
    """Champion vs challenger on the same leads: the gate for promotion."""

    max_log_loss_increase: float = Field(0.002, ge=0)
    max_auc_drop: float = Field(0.005, ge=0)
    require_beats_bant: bool = True
    ece_bins: int = Field(10, ge=2)
    bootstrap: BootstrapConfig = BootstrapConfig()


class BacktestConfig(_Frozen):
    # Issue 11: rolling-origin backtest. `periods` periods: calendar months when created_at holds dates
    # (unit auto/month), else equal blocks of the most recent `block_share` of ordered closed leads.
    periods: int = Field(6, ge=1, le=36)
    unit: Literal["auto", "month", "block"] = "auto"
    block_share: float = Field(0.3, gt=0, lt=1)
    min_period_closed: int = Field(200, ge=10)  # periods with fewer closed leads (or one class) are skipped
    # A cheaper training budget for the retrainings (null: train's own).
    n_estimators: int | None = Field(None, gt=0)
    learning_rate: float | None = Field(None, gt=0)
    early_stopping_rounds: int | None = Field(None, gt=0)
    ece_bins: int = Field(10, ge=2)
    bootstrap: BootstrapConfig = BootstrapConfig()
    # Periods retrained at once, each in its own process (LightGBM on train.n_jobs threads in each).
    n_jobs: int = Field(1, ge=1)


Policy = Literal["refuse", "warn", "ignore"]


class ContractConfig(_Frozen):
    """What scoring does about each kind of input-contract violation (leadscore.data.contract).

    ``refuse``: nothing is written and the run stops with one line naming the column, the count and
    an example; ``warn``: scored, and one warning with counts at the end; ``ignore``: scored silently.
    Missing or duplicate lead ids are always refused.
    """

    type_error: Policy = "refuse"  # text or inf in a numeric column, numbers in a text column, bad dates
    out_of_range: Policy = "warn"  # numbers well beyond the training range, negatives never seen in training
    unseen_category: Policy = "warn"  # category text never seen in training
    bant_never_passes: Policy = "warn"  # a BANT criterion that passes for none (or all) of the input


class MlflowConfig(_Frozen):
    experiment: str = "leadscore"
    registered_model: str = "leadscore"
    tracking_uri: str | None = None


class Params(_Frozen):
    """The whole of params.yaml."""

    data: DataConfig = DataConfig()
    columns: ColumnsConfig = ColumnsConfig()
    features: FeaturesConfig
    split: SplitConfig = SplitConfig()
    guards: GuardsConfig = GuardsConfig()
    train: TrainConfig = TrainConfig()
    calibrate: CalibrateConfig = CalibrateConfig()
    quadrants: QuadrantsConfig = QuadrantsConfig()
    bant: BantConfig
    evaluate: EvaluateConfig = EvaluateConfig()
    explain: ExplainConfig = ExplainConfig()
    history: HistoryConfig = HistoryConfig()  # issue 14, score history
    activities: ActivitiesConfig = ActivitiesConfig()  # issue 14; optional
    contract: ContractConfig = ContractConfig()
    mlflow: MlflowConfig = MlflowConfig()
    # Optional sections (issue 11, monitoring lane): defaults apply when params.yaml omits them.
    drift: DriftConfig = DriftConfig()
    monitor: MonitorConfig = MonitorConfig()
    promotion: PromotionConfig = PromotionConfig()
    backtest: BacktestConfig = BacktestConfig()  # issue 11, retraining lane

    @model_validator(mode="after")
    def _variants_reachable(self) -> Params:
        n = len(self.bant.criteria)
        bad = [k for k in self.evaluate.bant_variants if not 1 <= k <= n]
        if bad:
            raise ValueError(f"evaluate.bant_variants {bad}: each must be between 1 and the {n} BANT criteria")
        return self

    @model_validator(mode="after")
    def _monotone_numeric(self) -> Params:
        # LightGBM aborts the process on a monotone constraint over a categorical feature: refuse what
        # params alone show here (a column declared categorical or a job title); text columns are only
        # known from the data, so featurize refuses those (leadscore.features.build.check_monotone).
        f = self.features
        for group in ("fit", "intent"):
            listed = getattr(self.train, group).monotone_increasing
            text = [c for c in listed if c in f.categorical or c in f.job_title_columns]
            if text:
                raise ValueError(
                    f"train.{group}.monotone_increasing lists {text}, categorical columns (features.categorical or "
                    "job_title_columns): monotone constraints need numeric columns"
                )
        return self


def _format_errors(source: str, err: ValidationError) -> str:
    lines = [f"{source}: invalid parameters"]
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"]) or "(top level)"
        if e["type"] == "extra_forbidden":
            lines.append(f"  {key}: unknown key")
        else:
            shown = repr(e.get("input"))
            shown = shown if len(shown) < 60 else shown[:57] + "..."
            lines.append(f"  {key}: {e['msg']} (got {shown})")
    return "\n".join(lines)


def params_from_dict(raw: dict[str, Any], *, source: str = "params") -> Params:
    """Validate a plain dict (e.g. parsed YAML) into :class:`Params`."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: expected a mapping of sections, got {type(raw).__name__}")
    try:
        return Params.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(_format_errors(source, err)) from None


class _UniqueKeyLoader(yaml.SafeLoader):
    """A SafeLoader that refuses a mapping with the same key twice (PyYAML keeps the last silently)."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.get(key)
                except TypeError:  # an unhashable key: the base class reports it
                    continue
                if first is not None:
                    raise yaml.constructor.ConstructorError(
                        None,
                        None,
                        f"duplicated key {key!r} (first on line {first + 1}, again on line "
                        f"{key_node.start_mark.line + 1}); the last one would silently win",
                        key_node.start_mark,
                    )
                seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


def load_yaml(text: str) -> Any:
    """Parse YAML like ``yaml.safe_load``, but refuse duplicated keys (raises ``yaml.YAMLError``)."""
    return yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass: builds plain data only


def load_params(path: str | Path = "params.yaml") -> Params:
    """Read and validate params.yaml.

    Raises
    ------
    ConfigError
        If the file is missing, is not valid YAML, has an unknown key or a wrong type.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: parameters file not found")
    try:
        raw = load_yaml(path.read_text())
    except yaml.constructor.ConstructorError as err:
        # One line naming the key (the default str() adds a multi-line excerpt).
        raise ConfigError(f"{path}: {err.problem}") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML ({err})") from None
    return params_from_dict(raw or {}, source=str(path))
