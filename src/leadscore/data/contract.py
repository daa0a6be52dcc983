"""The input contract: what every column the scorer reads looked like in training, checked at scoring.

:func:`learn_contract` reads the training leads (the raw rows of the train and early-stopping
splits) once, in the featurize stage, and records for each input column its kind (numeric /
boolean / category / date / id), the training vocabulary of a category column, the observed range of
a numeric one, and how often each BANT criterion passed. It is plain JSON (:meth:`InputContract.to_dict`)
and travels with the scorer as ``scorer.extras["contract"]``.

:class:`ContractCheck` checks scoring input against it **chunk by chunk, counting over the whole
input**, so the verdict and the message are the same at any chunk size::

    check = ContractCheck(contract, source="leads.csv")
    for chunk in chunks:
        check.update(chunk)          # counts; never raises for a violation
        if check.refused:            # a refusing violation was seen: stop scoring, keep counting
            ...
    warnings = check.finish()        # raises DataValidationError listing every refusal

What counts as what (policies: params ``contract``, refuse | warn | ignore):

- ``type_error`` (refuse by default): text or ``inf``/``-inf`` in a numeric column, anything but
  true/false/0/1 in a boolean column, numbers in a column that held text in training (unless
  training itself had numeric-looking text there), text that is not a date in a date column. Such
  values are never silently made missing; with ``warn`` they are scored as missing.
- ``out_of_range`` (warn): a number more than one training range (at least 1) beyond the lowest or
  highest training value (so ``1e308``), or negative where training never was; a boolean other than
  0/1.
- ``unseen_category`` (warn): category text never seen in training (scored as ``"other"``).
- ``bant_never_passes`` (warn): a BANT criterion that passed for at least 2% of training leads
  passes for none of the input (or one that failed for at least 2% passes for all of it), when that
  would happen by chance less than once in 1,000 (so a handful of leads never triggers it).
- Lead ids are text; a missing id or an id seen twice anywhere in the input is always refused.
  Duplicates are found with 64-bit hashes of the ids (8 bytes per lead, no id strings kept).

Blank text and params ``data.missing_values`` are missing, not violations. A column that is empty
in the whole input is warned about (it is scored as missing).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from leadscore.config import BantConfig, ContractConfig, CriterionConfig
from leadscore.data.validation import require_columns
from leadscore.data.values import clean_distinct, criterion_passes, id_text, looks_numeric, parse_numbers
from leadscore.errors import DataValidationError

log = logging.getLogger(__name__)

NUMERIC, BOOLEAN, CATEGORY, DATE, ID = "numeric", "boolean", "category", "date", "id"
KINDS = (NUMERIC, BOOLEAN, CATEGORY, DATE, ID)
# More distinct training values than this: free text (no unseen-category check), e.g. company names.
MAX_VOCABULARY = 5000
# A category column whose training values read as numbers for more than this share accepts numbers.
NUMERIC_TEXT_SHARE = 0.01
# BANT: a criterion passing for at least this share of training leads is expected to pass sometimes.
BANT_MIN_SHARE = 0.02
# ... and "never passes" is reported only when chance alone would give it less often than this.
BANT_SURPRISE = 1e-3
# Distinct unseen categories remembered per column (for the count in the message): bounded memory.
MAX_UNSEEN_TRACKED = 1000

TYPE_ERROR, OUT_OF_RANGE, UNSEEN_CATEGORY, BANT_NEVER_PASSES = (
    "type_error",
    "out_of_range",
    "unseen_category",
    "bant_never_passes",
)
NULL_ID, DUPLICATE_ID = "null_id", "duplicate_id"  # always refused


# -- the contract -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ColumnContract:
    """One input column as seen in training.

    ``categories`` is the cleaned training vocabulary of a category column (None: free text, no
    vocabulary check); ``numeric_text`` says training itself had numbers there; ``aliases`` are the
    spelling folds applied before comparing (params features.category_aliases). ``min``/``max``/
    ``non_negative`` describe a numeric column's finite training values.
    """

    kind: str
    categories: tuple[str, ...] | None = None
    numeric_text: bool = False
    aliases: dict[str, str] = field(default_factory=dict)
    min: float | None = None
    max: float | None = None
    non_negative: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown column kind {self.kind!r}; expected one of {KINDS}")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind}
        if self.kind == CATEGORY:
            out["categories"] = None if self.categories is None else list(self.categories)
            out["numeric_text"] = self.numeric_text
            if self.aliases:
                out["aliases"] = dict(self.aliases)
        if self.kind == NUMERIC and self.min is not None:
            out.update(min=self.min, max=self.max, non_negative=self.non_negative)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ColumnContract:
        categories = data.get("categories")
        return cls(
            kind=data["kind"],
            categories=None if categories is None else tuple(categories),
            numeric_text=bool(data.get("numeric_text", False)),
            aliases=dict(data.get("aliases", {})),
            min=data.get("min"),
            max=data.get("max"),
            non_negative=bool(data.get("non_negative", False)),
        )

    def bounds(self) -> tuple[float, float] | None:
        """The accepted numeric range: one training range (at least 1) beyond each end, >= 0 if never negative."""
        if self.kind == BOOLEAN:
            return 0.0, 1.0
        if self.min is None or self.max is None:
            return None
        margin = max(self.max - self.min, abs(self.min), abs(self.max), 1.0)
        low = self.min - margin
        if self.non_negative:
            low = max(low, 0.0)
        return low, self.max + margin


@dataclass(frozen=True)
class BantExpectation:
    """A BANT criterion (its rule, as in params) and the share of training leads that passed it."""

    rule: dict[str, Any]
    pass_share: float

    @property
    def criterion(self) -> CriterionConfig:
        return CriterionConfig.model_validate(self.rule)


@dataclass(frozen=True)
class InputContract:
    """Every input column the scorer reads, as seen in training, plus the policies for violations."""

    id_column: str
    columns: dict[str, ColumnContract]
    bant: dict[str, BantExpectation] = field(default_factory=dict)
    missing_values: tuple[str, ...] = ()
    training_rows: int = 0
    policy: ContractConfig = field(default_factory=ContractConfig)

    def with_policy(self, policy: ContractConfig) -> InputContract:
        return replace(self, policy=policy)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data (what ``scorer.extras["contract"]`` holds)."""
        return {
            "version": 1,
            "id_column": self.id_column,
            "training_rows": self.training_rows,
            "missing_values": list(self.missing_values),
            "policy": self.policy.model_dump(),
            "columns": {name: c.to_dict() for name, c in self.columns.items()},
            "bant": {name: {"rule": b.rule, "pass_share": b.pass_share} for name, b in self.bant.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> InputContract:
        if data.get("version") != 1:
            raise DataValidationError(f"input contract: unsupported version {data.get('version')!r} (expected 1)")
        return cls(
            id_column=data["id_column"],
            columns={name: ColumnContract.from_dict(c) for name, c in data["columns"].items()},
            bant={
                name: BantExpectation(rule=dict(b["rule"]), pass_share=float(b["pass_share"]))
                for name, b in data.get("bant", {}).items()
            },
            missing_values=tuple(data.get("missing_values", ())),
            training_rows=int(data.get("training_rows", 0)),
            policy=ContractConfig.model_validate(data.get("policy", {})),
        )


# -- learning -----------------------------------------------------------------------------------
def _is_boolean(values: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(values):
        return True
    if pd.api.types.is_numeric_dtype(values):
        return False
    present = values.dropna()
    # infer_dtype walks the values in C ("boolean": every one a bool or numpy bool); a Python
    # isinstance per value cost ~0.1 s per column on 100k leads, in every featurize and backtest month.
    return len(present) > 0 and pd.api.types.infer_dtype(present, skipna=True) == "boolean"


def _learn_numeric(values: pd.Series, missing_values: tuple[str, ...]) -> ColumnContract:
    if _is_boolean(values):
        return ColumnContract(kind=BOOLEAN)
    numbers, _ = parse_numbers(values, missing_values)
    finite = numbers[np.isfinite(numbers)]
    if not len(finite):
        return ColumnContract(kind=NUMERIC)
    low, high = float(finite.min()), float(finite.max())
    return ColumnContract(kind=NUMERIC, min=low, max=high, non_negative=low >= 0)


def _learn_category(
    values: pd.Series, *, aliases: dict[str, str], missing_values: tuple[str, ...], free_text: bool
) -> ColumnContract:
    codes, cleaned = clean_distinct(values, aliases=aliases, missing_values=missing_values)
    counts = np.bincount(codes[codes >= 0], minlength=len(cleaned))
    present = cleaned.notna().to_numpy()
    numeric = looks_numeric(cleaned) & present
    n_present = counts[present].sum()
    numeric_text = bool(n_present and counts[numeric].sum() > NUMERIC_TEXT_SHARE * n_present)
    vocabulary = sorted(set(cleaned[present]))
    categories = None if free_text or len(vocabulary) > MAX_VOCABULARY else tuple(vocabulary)
    return ColumnContract(kind=CATEGORY, categories=categories, numeric_text=numeric_text, aliases=dict(aliases))


def learn_contract(
    raw: pd.DataFrame,
    *,
    id_column: str,
    featurizer,
    bant: BantConfig | None = None,
    missing_values: tuple[str, ...] = (),
    policy: ContractConfig | None = None,
    source: str = "lead table",
) -> InputContract:
    """Learn the input contract from training leads.

    Parameters
    ----------
    raw : pd.DataFrame
        Raw training leads (train and early-stopping splits), before any featurizing.
    featurizer : LeadFeaturizer
        The featurizer fitted on ``raw``: column kinds (numeric / categorical / title) and aliases
        come from it, so the contract and the features agree.
    bant : BantConfig, optional
        BANT criteria: their columns join the contract, with each criterion's training pass share.
    """
    features = featurizer.features
    ratio_columns = [c for pair in features.ratios.values() for c in pair]
    bant_columns = [c.column for c in bant.criteria.values()] if bant is not None else []
    names = [*features.fit_columns, *features.intent_columns, *ratio_columns, *bant_columns]
    require_columns(raw, [id_column, *names], what="the scorer's input columns", source=source)
    dropped = set(getattr(featurizer, "dropped_columns_", ()))
    columns: dict[str, ColumnContract] = {id_column: ColumnContract(kind=ID)}
    for name in dict.fromkeys(names):
        if name == id_column or (name in dropped and name not in ratio_columns and name not in bant_columns):
            continue  # entirely missing in training: the models never use it
        values = raw[name]
        kind = featurizer.kinds_.get(name)
        if pd.api.types.is_datetime64_any_dtype(values):
            columns[name] = ColumnContract(kind=DATE)
        elif name in ratio_columns or kind == "numeric" or (kind is None and _is_numeric_like(values)):
            columns[name] = _learn_numeric(values, missing_values)
        else:
            columns[name] = _learn_category(
                values,
                aliases=dict(features.category_aliases.get(name, {})),
                missing_values=missing_values,
                free_text=kind == "title",
            )
    expectations: dict[str, BantExpectation] = {}
    if bant is not None and len(raw):
        for name, rule in bant.criteria.items():
            share = float(criterion_passes(raw[rule.column], rule).mean())
            expectations[name] = BantExpectation(
                rule=rule.model_dump(mode="json", by_alias=True, exclude_none=True), pass_share=share
            )
    return InputContract(
        id_column=id_column,
        columns=columns,
        bant=expectations,
        missing_values=tuple(missing_values),
        training_rows=len(raw),
        policy=policy or ContractConfig(),
    )


def _is_numeric_like(values: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
        return True
    return _is_boolean(values)


# -- checking -----------------------------------------------------------------------------------
def _count(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s" if not word.endswith("y") else f"{n:,} {word[:-1]}ies"


def _shown(value: Any) -> str:
    if isinstance(value, np.generic):
        value = value.item()
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


@dataclass
class _Tally:
    """Count and first example (in input order) of one violation in one column."""

    count: int = 0
    example: Any = None
    row: int = -1  # 0-based position of the example in the whole input


class _IdHashes:
    """64-bit hashes of every id seen, as a few sorted runs (merged like a binary counter)."""

    def __init__(self) -> None:
        self.runs: list[np.ndarray] = []

    def _seen(self, hashes: np.ndarray) -> np.ndarray:
        seen = np.zeros(len(hashes), dtype=bool)
        for run in self.runs:
            at = np.minimum(np.searchsorted(run, hashes), len(run) - 1)
            seen |= run[at] == hashes
        return seen

    def _push(self, run: np.ndarray) -> None:
        self.runs.append(run)
        while len(self.runs) > 1 and len(self.runs[-2]) <= 2 * len(self.runs[-1]):
            last = self.runs.pop()
            self.runs[-1] = np.sort(np.concatenate([self.runs[-1], last]), kind="stable")

    def add(self, hashes: np.ndarray) -> np.ndarray:
        """Record ``hashes`` (in input order); return which of them were seen before (earlier rows)."""
        # Sorted once: searching sorted queries is cache-friendly, and a stable sort puts a repeated
        # hash's occurrences in input order, so "equal to the previous one" marks the later ones.
        order = np.argsort(hashes, kind="stable")
        ordered = hashes[order]
        repeated_ordered = self._seen(ordered)
        repeated_ordered[1:] |= ordered[1:] == ordered[:-1]
        repeated = np.empty(len(hashes), dtype=bool)
        repeated[order] = repeated_ordered
        if len(hashes):
            self._push(ordered)
        return repeated

    def merge(self, other: _IdHashes) -> tuple[int, int | None]:
        """Add a later part's hashes; return (how many of its rows repeat an earlier part's id, one such hash)."""
        if not other.runs:
            return 0, None
        theirs = np.sort(np.concatenate(other.runs), kind="stable")
        seen = self._seen(theirs)
        self._push(theirs)
        return int(seen.sum()), (int(theirs[seen][0]) if seen.any() else None)


def hash_ids(ids: pd.Series) -> np.ndarray:
    """64-bit hashes of ids as text (the same id always hashes the same, in any chunk or process)."""
    return pd.util.hash_pandas_object(id_text(ids), index=False, categorize=False).to_numpy()


class ContractCheck:
    """Accumulate contract violations over chunks; decide once, at :meth:`finish`.

    Parameters
    ----------
    contract : InputContract or None
        None (a scorer trained before contracts existed): only the ids are checked.
    id_column : str, optional
        The id column when ``contract`` is None.
    policy : ContractConfig, optional
        Overrides the policy stored in the contract.
    source : str
        Names the input in messages.
    """

    def __init__(
        self,
        contract: InputContract | None,
        *,
        id_column: str | None = None,
        policy: ContractConfig | None = None,
        source: str = "lead table",
    ):
        if contract is not None:
            id_column = contract.id_column
        elif id_column is None:
            raise ValueError("ContractCheck needs a contract or an id_column")
        self.contract = contract
        self.id_column: str = id_column
        self.policy = policy or (contract.policy if contract is not None else ContractConfig())
        self.source = source
        self.rows = 0
        self._tallies: dict[tuple[str, str], _Tally] = {}
        self._unseen: dict[str, set[str]] = {}
        self._present: dict[str, int] = {}
        self._bant_passes: dict[str, int] = {}
        self._bant_example: dict[str, Any] = {}
        self._ids = _IdHashes()
        self._pending_duplicate: int | None = None

    # -- policy ---------------------------------------------------------------------------------
    def _policy_of(self, violation: str) -> str:
        if violation in (NULL_ID, DUPLICATE_ID):
            return "refuse"
        return getattr(self.policy, violation)

    @property
    def refused(self) -> bool:
        """True once a violation whose policy is ``refuse`` has been seen (stop scoring, keep checking)."""
        return any(self._policy_of(kind) == "refuse" for kind, _ in self._tallies)

    # -- counting -------------------------------------------------------------------------------
    def _tally(self, violation: str, column: str, mask: np.ndarray, values: pd.Series | np.ndarray) -> None:
        if self._policy_of(violation) == "ignore":
            return
        count = int(np.count_nonzero(mask))
        if not count:
            return
        tally = self._tallies.setdefault((violation, column), _Tally())
        if tally.example is None:
            first = int(np.flatnonzero(mask)[0])
            tally.example = values.iloc[first] if isinstance(values, pd.Series) else values[first]
            tally.row = self.rows + first
        tally.count += count

    def update(self, chunk: pd.DataFrame) -> None:
        """Count the violations in the next rows of the input (in input order)."""
        columns = [self.id_column] if self.contract is None else list(self.contract.columns)
        require_columns(chunk, columns, what="the scorer's input columns", source=self.source)
        self._check_ids(chunk[self.id_column])
        if self.contract is not None:
            missing_values = self.contract.missing_values
            for name, column in self.contract.columns.items():
                if column.kind == ID:
                    continue
                values = chunk[name]
                if column.kind in (NUMERIC, BOOLEAN):
                    self._check_numeric(name, column, values, missing_values)
                elif column.kind == CATEGORY:
                    self._check_category(name, column, values, missing_values)
                else:
                    self._check_date(name, values, missing_values)
            self._count_bant(chunk)
        self.rows += len(chunk)

    def _check_ids(self, ids: pd.Series) -> None:
        text = id_text(ids)
        null = (text.isna() | (text.str.strip() == "")).to_numpy(dtype=bool)
        self._tally(NULL_ID, self.id_column, null, ids)
        hashes = pd.util.hash_pandas_object(text, index=False, categorize=False).to_numpy()
        repeated = np.zeros(len(text), dtype=bool)
        repeated[~null] = self._ids.add(hashes[~null])
        self._tally(DUPLICATE_ID, self.id_column, repeated, text)

    def _check_numeric(self, name: str, column: ColumnContract, values: pd.Series, missing_values) -> None:
        numbers, bad = parse_numbers(values, missing_values)
        finite = ~np.isnan(numbers)
        self._present[name] = self._present.get(name, 0) + int(finite.sum() + bad.sum())
        self._tally(TYPE_ERROR, name, bad, values)
        bounds = column.bounds()
        if bounds is not None:
            with np.errstate(invalid="ignore"):
                if column.kind == BOOLEAN:
                    outside = finite & (numbers != 0) & (numbers != 1)
                else:
                    outside = (numbers < bounds[0]) | (numbers > bounds[1])
            self._tally(OUT_OF_RANGE, name, outside, values)

    def _check_category(self, name: str, column: ColumnContract, values: pd.Series, missing_values) -> None:
        codes, cleaned = clean_distinct(values, aliases=column.aliases, missing_values=missing_values)
        present = cleaned.notna().to_numpy()
        known = cleaned.isin(column.categories).to_numpy() if column.categories is not None else present
        numeric = np.zeros(len(cleaned), dtype=bool)
        if not column.numeric_text:
            numeric = looks_numeric(cleaned) & present & ~known
        unseen = present & ~known & ~numeric

        def rows(per_distinct: np.ndarray) -> np.ndarray:
            return np.append(per_distinct, False)[codes]

        self._present[name] = self._present.get(name, 0) + int(rows(present).sum())
        self._tally(TYPE_ERROR, name, rows(numeric), values)
        if unseen.any():
            self._tally(UNSEEN_CATEGORY, name, rows(unseen), values)
            tracked = self._unseen.setdefault(name, set())
            for value in cleaned[unseen]:
                if len(tracked) >= MAX_UNSEEN_TRACKED:
                    break
                tracked.add(value)

    def _check_date(self, name: str, values: pd.Series, missing_values) -> None:
        if pd.api.types.is_datetime64_any_dtype(values):
            self._present[name] = self._present.get(name, 0) + int(values.notna().sum())
            return
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        distinct = pd.Series(np.asarray(uniques, dtype=object), dtype=object)
        blank = distinct.map(lambda v: isinstance(v, str) and not v.strip()) | distinct.isin(list(missing_values))
        parsed = pd.to_datetime(distinct.where(~blank), errors="coerce", format="mixed")
        bad = (parsed.isna() & ~blank).to_numpy(dtype=bool)
        self._present[name] = self._present.get(name, 0) + int(
            np.append(~blank.to_numpy(dtype=bool), False)[codes].sum()
        )
        self._tally(TYPE_ERROR, name, np.append(bad, False)[codes], values)

    def _count_bant(self, chunk: pd.DataFrame) -> None:
        if self.contract is None or not self.contract.bant or self._policy_of(BANT_NEVER_PASSES) == "ignore":
            return
        for name, expected in self.contract.bant.items():
            rule = expected.criterion
            values = chunk[rule.column]
            self._bant_passes[name] = self._bant_passes.get(name, 0) + int(criterion_passes(values, rule).sum())
            if name not in self._bant_example:
                present = values.dropna()
                if len(present):
                    self._bant_example[name] = present.iloc[0]

    def merge(self, later: ContractCheck) -> None:
        """Fold in the check of the rows that come right after these (Dask partitions, in order)."""
        for key, theirs in later._tallies.items():
            mine = self._tallies.get(key)
            if mine is None:
                self._tallies[key] = _Tally(theirs.count, theirs.example, self.rows + theirs.row)
            else:
                mine.count += theirs.count
        for name, values in later._unseen.items():
            tracked = self._unseen.setdefault(name, set())
            tracked.update(list(values)[: max(0, MAX_UNSEEN_TRACKED - len(tracked))])
        for name, n in later._present.items():
            self._present[name] = self._present.get(name, 0) + n
        for name, n in later._bant_passes.items():
            self._bant_passes[name] = self._bant_passes.get(name, 0) + n
        for name, value in later._bant_example.items():
            self._bant_example.setdefault(name, value)
        repeats, example_hash = self._ids.merge(later._ids)
        if repeats:
            tally = self._tallies.setdefault((DUPLICATE_ID, self.id_column), _Tally())
            tally.count += repeats
            if tally.example is None and self._pending_duplicate is None:
                self._pending_duplicate = example_hash
        if self._pending_duplicate is None:
            self._pending_duplicate = later._pending_duplicate
        self.rows += later.rows

    @property
    def unresolved_duplicate_hash(self) -> int | None:
        """After :meth:`merge`: the hash of a duplicate id whose text is not known yet (see :func:`hash_ids`)."""
        tally = self._tallies.get((DUPLICATE_ID, self.id_column))
        return self._pending_duplicate if tally is not None and tally.example is None else None

    def resolve_duplicate(self, example: Any) -> None:
        """Name the duplicate id found by :meth:`merge` (its text, looked up by the caller)."""
        tally = self._tallies.get((DUPLICATE_ID, self.id_column))
        if tally is not None and tally.example is None:
            tally.example = example
        self._pending_duplicate = None

    # -- verdict --------------------------------------------------------------------------------
    def _describe(self, violation: str, column: str, tally: _Tally) -> str:
        spec = self.contract.columns.get(column) if self.contract is not None else None
        n = tally.count
        example = (
            f"e.g. {_shown(tally.example)} at row {tally.row + 1:,}"
            if tally.row >= 0
            else f"e.g. {_shown(tally.example)}"
        )
        if violation == NULL_ID:
            return f"column {column!r} (the lead id): {_count(n, 'missing id')} (first at row {tally.row + 1:,})"
        if violation == DUPLICATE_ID:
            shown = f"e.g. {_shown(tally.example)}" if tally.example is not None else "example unknown"
            return (
                f"column {column!r} (the lead id) must be unique across the whole input: "
                f"{_count(n, 'repeated id')} ({shown})"
            )
        assert spec is not None  # type, range and unseen-category tallies exist only for contract columns
        if violation == TYPE_ERROR:
            held, one, many = {
                NUMERIC: ("numbers", "is not a finite number", "are not finite numbers"),
                BOOLEAN: ("true/false", "is not true/false/0/1", "are not true/false/0/1"),
                CATEGORY: ("text", "is a number", "are numbers"),
                DATE: ("dates", "is not a date", "are not dates"),
            }[spec.kind]
            problem = one if n == 1 else many
            return f"column {column!r} held {held} in training, but {_count(n, 'value')} here {problem} ({example})"
        if violation == OUT_OF_RANGE:
            if spec.kind == BOOLEAN:
                return f"column {column!r} (true/false in training): {_count(n, 'number')} other than 0/1 ({example})"
            bounds = spec.bounds()
            assert bounds is not None  # out-of-range tallies exist only for columns with a training range
            low, high = bounds
            never = ", never negative" if spec.non_negative else ""
            return (
                f"column {column!r}: {_count(n, 'value')} far outside the training range "
                f"[{spec.min:,.6g}, {spec.max:,.6g}{never}; accepted {low:,.6g} to {high:,.6g}] ({example})"
            )
        distinct = len(self._unseen.get(column, ()))
        more = "+" if distinct >= MAX_UNSEEN_TRACKED else ""
        return (
            f"column {column!r}: {_count(n, 'value')} in {_count(distinct, 'category')}{more} never seen in "
            f"training ({example})"
        )

    def _bant_findings(self) -> list[str]:
        if self.contract is None or self._policy_of(BANT_NEVER_PASSES) == "ignore" or not self.rows:
            return []
        out = []
        for name, expected in self.contract.bant.items():
            p, passes, n = expected.pass_share, self._bant_passes.get(name, 0), self.rows
            rule = expected.criterion
            condition = ", ".join(f"{k} {v!r}" for k, v in expected.rule.items() if k != "column")
            example = self._bant_example.get(name)
            values = f"; values here are e.g. {_shown(example)}" if example is not None else "; the column is empty"
            if passes == 0 and p >= BANT_MIN_SHARE and math.pow(1 - p, n) < BANT_SURPRISE:
                out.append(
                    f"BANT criterion {name!r} (column {rule.column!r}, {condition}) passed for {p:.0%} of "
                    f"training leads but for none of these {n:,}{values} "
                    "(recorded differently, e.g. 'Y'/'N' for 'yes'/'no'?)"
                )
            elif passes == n and p <= 1 - BANT_MIN_SHARE and math.pow(p, n) < BANT_SURPRISE:
                out.append(
                    f"BANT criterion {name!r} (column {rule.column!r}, {condition}) passed for {p:.0%} of "
                    f"training leads but for all of these {n:,}{values}"
                )
        return out

    def finish(self) -> list[str]:
        """Decide once for the whole input.

        Raises one :class:`DataValidationError` naming every refused violation (column, count,
        example and its row); otherwise logs the warnings (one line each) and returns them.
        """
        refusals: list[str] = []
        warnings: list[str] = []
        order = {name: i for i, name in enumerate(self.contract.columns)} if self.contract is not None else {}
        kinds = (NULL_ID, DUPLICATE_ID, TYPE_ERROR, OUT_OF_RANGE, UNSEEN_CATEGORY)
        for violation, column in sorted(self._tallies, key=lambda k: (kinds.index(k[0]), order.get(k[1], 0))):
            message = self._describe(violation, column, self._tallies[(violation, column)])
            policy = self._policy_of(violation)
            if violation not in (NULL_ID, DUPLICATE_ID):
                message += f" (params contract.{violation}: {policy})"
            (refusals if policy == "refuse" else warnings).append(message)
        bant = self._bant_findings()
        suffix = f" (params contract.{BANT_NEVER_PASSES}: {self._policy_of(BANT_NEVER_PASSES)})"
        (refusals if self._policy_of(BANT_NEVER_PASSES) == "refuse" else warnings).extend(m + suffix for m in bant)
        if refusals:
            raise DataValidationError(f"{self.source}: input refused, nothing written: " + "; ".join(refusals))
        if self.contract is not None and self.rows > 1:
            for name, spec in self.contract.columns.items():
                if spec.kind != ID and self._present.get(name, 0) == 0:
                    warnings.append(f"column {name!r} is empty in the whole input; scored as missing")
        for message in warnings:
            log.warning("%s: %s", self.source, message)
        return warnings


def contract_of(scorer) -> InputContract | None:
    """The scorer's input contract (``scorer.extras["contract"]``), or None for a scorer without one."""
    data = (getattr(scorer, "extras", None) or {}).get("contract")
    return InputContract.from_dict(data) if data else None


def text_columns_of(scorer) -> tuple[str, ...]:
    """Columns a text source (CSV) must read as text, not guess: the id and every category column."""
    contract = contract_of(scorer)
    if contract is None:
        return (scorer.id_column,)
    return tuple(n for n, c in contract.columns.items() if c.kind in (ID, CATEGORY))


def check_frame(
    scorer, raw: pd.DataFrame, *, source: str = "lead table", policy: ContractConfig | None = None
) -> list[str]:
    """Check one whole table against the scorer's contract (ids only without one); return the warnings."""
    check = ContractCheck(contract_of(scorer), id_column=scorer.id_column, policy=policy, source=source)
    check.update(raw)
    return check.finish()
