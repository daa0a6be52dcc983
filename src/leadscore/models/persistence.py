"""Model files as data: the scorer, featurizer, boosters and display text as JSON and LightGBM text.

Loading a model file never runs code. Everything the pipeline writes is plain data: LightGBM's own text
model format for the trees, and JSON for the rest (calibration maps, the conversion model's
coefficients, featurizer vocabularies, thresholds, BANT rules, ``extras`` such as the input contract).
Each JSON file names its ``format`` and ``format_version``; a reader refuses a file it does not
understand with one line naming the file.

Pickles (``.joblib`` files written by leadscore before this format) can run arbitrary code when
loaded, so they are refused unless the caller passes ``trust_pickle=True`` (the CLI's
``--trust-pickle``): only for files you made yourself. A trusted legacy scorer is converted to the
current objects, so it can be saved again as JSON.

Output is byte-deterministic: the same model gives the same bytes on any machine (keys in a fixed
order, floats in Python's shortest round-trip form), so DVC's checksums only change with the model.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np

from leadscore.config import BantConfig, FeaturesConfig
from leadscore.errors import ModelFileError
from leadscore.features.build import LeadFeaturizer
from leadscore.io import atomic_path
from leadscore.models.calibration import CalibratedBooster, conversion_model_from_dict
from leadscore.models.scorer import Display, LeadScorer

FORMAT_VERSION = 1
SCORER_FORMAT = "leadscore.lead_scorer"
FEATURIZER_FORMAT = "leadscore.featurizer"
DISPLAY_FORMAT = "leadscore.display"
# Suffixes of pickled model files (joblib, pickle) written by older leadscore versions.
PICKLE_SUFFIXES = (".joblib", ".pkl", ".pickle")
_TRUST_HINT = (
    "pickles can run any code when loaded; re-run the pipeline (`dvc repro`) to write a JSON model, "
    "or pass --trust-pickle (trust_pickle=True) only if you made this file yourself"
)


# -- JSON text ------------------------------------------------------------------------------------
def dumps(obj: Any, *, what: str = "model") -> str:
    """Deterministic JSON text: given key order, strict JSON (no NaN/Infinity), UTF-8, newline-terminated."""
    try:
        return json.dumps(obj, indent=1, ensure_ascii=False, allow_nan=False) + "\n"
    except (TypeError, ValueError) as err:
        raise ModelFileError(f"{what}: cannot be saved as JSON ({err})") from None


def _write(text: str, path: str | Path) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def _header(fmt: str) -> dict[str, Any]:
    return {"format": fmt, "format_version": FORMAT_VERSION}


def is_pickle(path: str | Path, head: bytes) -> bool:
    """Whether a file is a pickle: a pickle suffix, or pickle protocol 2+'s first byte."""
    return Path(path).suffix.lower() in PICKLE_SUFFIXES or head[:1] == b"\x80"


def _read_bytes(path: Path, what: str) -> bytes:
    if not path.exists():
        raise ModelFileError(f"{path}: {what} not found (run `dvc repro` first)")
    if path.is_dir():
        raise ModelFileError(f"{path}: is a directory, expected a {what}")
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ModelFileError(f"{path}: cannot read the {what} ({err.strerror})") from None
    if not data.strip():
        raise ModelFileError(f"{path}: the {what} is empty ({len(data)} bytes); re-run the stage that writes it")
    return data


def _read_json(path: Path, fmt: str, what: str, data: bytes) -> dict[str, Any]:
    try:
        obj = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise ModelFileError(f"{path}: not a {what} (binary data, expected JSON)") from None
    except json.JSONDecodeError as err:
        raise ModelFileError(
            f"{path}: not a valid {what}: the JSON is truncated or corrupt ({err.msg} at line {err.lineno}, "
            f"column {err.colno})"
        ) from None
    if not isinstance(obj, dict) or "format" not in obj:
        raise ModelFileError(f"{path}: not a {what} (JSON without a 'format' field)")
    if obj["format"] != fmt:
        raise ModelFileError(f"{path}: holds {obj['format']!r}, expected a {what} ({fmt!r})")
    version = obj.get("format_version")
    if version != FORMAT_VERSION:
        raise ModelFileError(
            f"{path}: {what} format version {version!r}; this leadscore reads version {FORMAT_VERSION} "
            "(use the leadscore that wrote it, or retrain)"
        )
    return obj


def _malformed(path: Path | str, what: str, err: Exception) -> ModelFileError:
    detail = f"missing field {err.args[0]!r}" if isinstance(err, KeyError) else str(err).splitlines()[0]
    return ModelFileError(f"{path}: not a valid {what} ({detail})")


def _load_pickle(path: Path, what: str, trust_pickle: bool) -> Any:
    if not trust_pickle:
        raise ModelFileError(f"{path}: the {what} is a pickle, refused: {_TRUST_HINT}")
    import joblib  # only for a legacy file the user explicitly trusts

    try:
        return joblib.load(path)
    except Exception as err:  # a trusted pickle can fail in any way; say which file
        raise ModelFileError(f"{path}: could not load the pickled {what} ({type(err).__name__}: {err})") from None


# -- featurizer -----------------------------------------------------------------------------------
def featurizer_to_dict(featurizer: LeadFeaturizer) -> dict[str, Any]:
    """A fitted :class:`LeadFeaturizer` as JSON-able data."""
    return {
        **_header(FEATURIZER_FORMAT),
        "features": featurizer.features.model_dump(mode="json"),
        "missing_values": list(featurizer.missing_values),
        "kinds": dict(featurizer.kinds_),
        "dropped_columns": list(featurizer.dropped_columns_),
        "categories": {name: list(values) for name, values in featurizer.categories_.items()},
        "fit_features": list(featurizer.fit_features_),
        "intent_features": list(featurizer.intent_features_),
        # The input contract featurize learned from the same training rows (calibrate moves it into
        # the scorer's extras); a plain JSON dict.
        "contract": getattr(featurizer, "contract_", None),
        # Issue 14: the activity-log features it reads (types, chosen windows and half-lives), or None.
        "activity": getattr(featurizer, "activity_", None),
    }


def featurizer_from_dict(data: dict[str, Any]) -> LeadFeaturizer:
    """The fitted featurizer :func:`featurizer_to_dict` described (KeyError/ValueError when malformed)."""
    featurizer = LeadFeaturizer(
        features=FeaturesConfig.model_validate(data["features"]),
        missing_values=tuple(str(v) for v in data["missing_values"]),
    )
    featurizer.kinds_ = {str(k): str(v) for k, v in data["kinds"].items()}
    featurizer.dropped_columns_ = [str(c) for c in data["dropped_columns"]]
    featurizer.categories_ = {str(k): [str(c) for c in v] for k, v in data["categories"].items()}
    featurizer.fit_features_ = [str(c) for c in data["fit_features"]]
    featurizer.intent_features_ = [str(c) for c in data["intent_features"]]
    if data.get("contract") is not None:
        featurizer.contract_ = data["contract"]
    if data.get("activity") is not None:
        featurizer.activity_ = data["activity"]
    return featurizer


def save_featurizer(featurizer: LeadFeaturizer, path: str | Path) -> None:
    """Write the fitted featurizer as JSON, atomically."""
    _write(dumps(featurizer_to_dict(featurizer), what="featurizer"), path)


def load_featurizer(path: str | Path, *, trust_pickle: bool = False) -> LeadFeaturizer:
    """Read a featurizer written by :func:`save_featurizer` (or, if trusted, a legacy pickle)."""
    path, what = Path(path), "featurizer file"
    data = _read_bytes(path, what)
    if is_pickle(path, data):
        obj = _load_pickle(path, what, trust_pickle)
        if not isinstance(obj, LeadFeaturizer):
            raise ModelFileError(f"{path}: not a leadscore featurizer (found {type(obj).__name__})")
        obj = featurizer_to_dict(obj)
    else:
        obj = _read_json(path, FEATURIZER_FORMAT, what, data)
    try:
        return featurizer_from_dict(obj)
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise _malformed(path, what, err) from None


# -- boosters --------------------------------------------------------------------------------------
def booster_text(model: Any) -> str:
    """LightGBM's text model of a ``Booster`` or fitted ``LGBMClassifier`` (only the trees it predicts with)."""
    if isinstance(model, lgb.Booster):
        return model.model_to_string()
    booster = model.booster_
    return booster.model_to_string(num_iteration=int(model.best_iteration_ or booster.current_iteration()))


def _check_tree_blocks(text: str) -> None:
    """Refuse a LightGBM text model whose trees are not all there.

    LightGBM's parser trusts the ``tree_sizes`` header and reads each tree at its stated byte offset:
    on a truncated model it reads past the end of the text and can crash the process (measured with
    lightgbm 4.7). So every tree must start where the header says, and the last must end at
    ``end of trees``, before LightGBM sees the text.
    """
    data = text.encode("utf-8")
    sizes_line = re.search(rb"^tree_sizes=([0-9 ]*)$", data, re.MULTILINE)
    first = data.find(b"\nTree=0\n")
    if sizes_line is None or first < 0:
        raise ValueError("not a LightGBM text model (no tree_sizes header or no Tree=0)")
    pos = first + 1
    for i, size in enumerate(int(s) for s in sizes_line.group(1).split()):
        if not data.startswith(b"Tree=%d\n" % i, pos):
            raise ValueError(f"the LightGBM model is truncated or corrupt (tree {i} is not where its header says)")
        pos += size
    if not data.startswith(b"\nend of trees\n", pos - 1):
        raise ValueError("the LightGBM model is truncated or corrupt (no 'end of trees' after the last tree)")
    # The last line (LightGBM's Python package writes it): without it categoricals would be misread.
    if b"\npandas_categorical:" not in data[pos:]:
        raise ValueError("the LightGBM model is truncated (no pandas_categorical line at its end)")


def booster_from_text(text: str) -> lgb.Booster:
    """A ``Booster`` from its text model (LightGBMError/ValueError when it is not one)."""
    if not isinstance(text, str) or not text.startswith("tree\n"):
        raise ValueError("not a LightGBM text model (it must start with 'tree')")
    _check_tree_blocks(text)
    booster = lgb.Booster(model_str=text)
    if booster.current_iteration() < 1:
        raise ValueError("the LightGBM model holds no trees (truncated?)")
    return booster


def save_booster(model: Any, path: str | Path) -> None:
    """Write a trained model (``Booster`` or ``LGBMClassifier``) as a LightGBM text model file, atomically."""
    _write(booster_text(model), path)


def load_booster(path: str | Path) -> lgb.Booster:
    """Read a LightGBM text model file written by :func:`save_booster`."""
    path, what = Path(path), "LightGBM model file"
    data = _read_bytes(path, what)
    if is_pickle(path, data):
        raise ModelFileError(f"{path}: the {what} is a pickle, refused: {_TRUST_HINT}")
    try:
        return booster_from_text(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, lgb.basic.LightGBMError) as err:
        raise _malformed(path, what, err) from None


# -- calibrated models, the scorer ------------------------------------------------------------------
def calibrated_to_dict(model: CalibratedBooster) -> dict[str, Any]:
    return {"calibration": {"method": model.method, **model.calibration_map()}, "booster": booster_text(model.booster_)}


def calibrated_from_dict(data: dict[str, Any]) -> CalibratedBooster:
    mapping = dict(data["calibration"])
    method = mapping.pop("method")
    return CalibratedBooster.from_map(booster_from_text(data["booster"]), method=method, mapping=mapping)


def scorer_to_dict(scorer: LeadScorer) -> dict[str, Any]:
    """The scorer as JSON-able data; display text is not included (see :class:`Display`)."""
    dumps(scorer.extras, what="scorer extras")  # name the culprit if an extra is not JSON
    return {
        **_header(SCORER_FORMAT),
        "id_column": scorer.id_column,
        "thresholds": {"fit": float(scorer.fit_threshold), "intent": float(scorer.intent_threshold)},
        # Not bant.points: only the benchmark reads them, from params (and calibrate does not depend on them).
        "bant": scorer.bant.model_dump(mode="json", by_alias=True, exclude_none=True, exclude={"points"}),
        "explain_top_k": int(scorer.explain_top_k),
        "conversion_model": scorer.conversion_model.to_dict(),
        "featurizer": featurizer_to_dict(scorer.featurizer),
        "extras": scorer.extras,
        # The trees last: everything above reads at a glance.
        "fit_model": calibrated_to_dict(scorer.fit_model),
        "intent_model": calibrated_to_dict(scorer.intent_model),
    }


def scorer_from_dict(data: dict[str, Any]) -> LeadScorer:
    """The scorer :func:`scorer_to_dict` described (KeyError/ValueError/LightGBMError when malformed)."""
    featurizer = data["featurizer"]
    if featurizer.get("format") != FEATURIZER_FORMAT or featurizer.get("format_version") != FORMAT_VERSION:
        raise ValueError("the embedded featurizer has an unknown format")
    extras = data["extras"]
    if not isinstance(extras, dict):
        raise ValueError("'extras' must be an object")
    return LeadScorer(
        id_column=str(data["id_column"]),
        featurizer=featurizer_from_dict(featurizer),
        fit_model=calibrated_from_dict(data["fit_model"]),
        intent_model=calibrated_from_dict(data["intent_model"]),
        conversion_model=conversion_model_from_dict(data["conversion_model"]),
        fit_threshold=float(data["thresholds"]["fit"]),
        intent_threshold=float(data["thresholds"]["intent"]),
        bant=BantConfig.model_validate(data["bant"]),
        explain_top_k=int(data["explain_top_k"]),
        extras=extras,
    )


def scorer_json(scorer: LeadScorer) -> str:
    """The exact text :func:`save_scorer` writes."""
    return dumps(scorer_to_dict(scorer), what="lead scorer")


def save_scorer(scorer: LeadScorer, path: str | Path) -> None:
    """Write the scorer as one JSON file, atomically (display text is not saved: :func:`save_display`)."""
    _write(scorer_json(scorer), path)


def load_scorer(path: str | Path, *, trust_pickle: bool = False) -> LeadScorer:
    """Read a scorer written by :func:`save_scorer`, with the default display (no labels).

    A legacy ``.joblib`` scorer is refused unless ``trust_pickle`` (it is converted, and its
    pickled labels and actions become its display). Any problem is one :class:`ModelFileError` line.
    """
    path, what = Path(path), "leadscore model file"
    data = _read_bytes(path, what)
    if is_pickle(path, data):
        return scorer_from_legacy(_load_pickle(path, what, trust_pickle), source=str(path))
    obj = _read_json(path, SCORER_FORMAT, what, data)
    try:
        return scorer_from_dict(obj)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, lgb.basic.LightGBMError) as err:
        raise _malformed(path, what, err) from None


def _legacy_calibrated(model: Any) -> CalibratedBooster:
    """``CalibratedClassifierCV(FrozenEstimator(LGBMClassifier))`` -> :class:`CalibratedBooster`."""
    if isinstance(model, CalibratedBooster):
        return model
    inner = model.calibrated_classifiers_[0]
    classifier = inner.estimator.estimator  # FrozenEstimator -> LGBMClassifier
    calibrator = inner.calibrators[0]
    if model.method == "sigmoid":
        mapping: dict[str, Any] = {"a": calibrator.a_, "b": calibrator.b_}
    else:
        mapping = {
            "x_thresholds": np.asarray(calibrator.X_thresholds_).tolist(),
            "y_thresholds": np.asarray(calibrator.y_thresholds_).tolist(),
            "x_min": calibrator.X_min_,
            "x_max": calibrator.X_max_,
        }
    return CalibratedBooster.from_map(booster_from_text(booster_text(classifier)), method=model.method, mapping=mapping)


def scorer_from_legacy(obj: Any, *, source: str) -> LeadScorer:
    """A trusted, already unpickled scorer of any leadscore version -> the current objects, via the JSON
    form (so it behaves exactly as its saved JSON will). ``source`` names it in errors."""
    if not isinstance(obj, LeadScorer):
        raise ModelFileError(f"{source}: not a leadscore scorer (the pickle holds a {type(obj).__name__})")
    state = vars(obj)
    try:
        current = LeadScorer(
            id_column=state["id_column"],
            featurizer=state["featurizer"],
            fit_model=_legacy_calibrated(state["fit_model"]),
            intent_model=_legacy_calibrated(state["intent_model"]),
            conversion_model=state["conversion_model"],
            fit_threshold=state["fit_threshold"],
            intent_threshold=state["intent_threshold"],
            bant=state["bant"],
            explain_top_k=state.get("explain_top_k", 3),
            extras=state.get("extras", {}),
        )
        display = state.get("display") or Display(
            labels=dict(state.get("labels") or {}), actions=dict(state.get("actions") or {})
        )
        # Through the JSON form: a trusted legacy model behaves exactly as its saved JSON will.
        return scorer_from_dict(json.loads(scorer_json(current))).with_display(display)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, lgb.basic.LightGBMError) as err:
        raise _malformed(source, "legacy leadscore scorer", err) from None


# -- display text ------------------------------------------------------------------------------------
def display_to_dict(display: Display) -> dict[str, Any]:
    return {**_header(DISPLAY_FORMAT), "labels": dict(display.labels), "actions": dict(display.actions)}


def save_display(display: Display, path: str | Path) -> None:
    """Write the display text (labels, actions) as JSON, atomically."""
    _write(dumps(display_to_dict(display), what="display"), path)


def load_display(path: str | Path) -> Display:
    """Read display text written by :func:`save_display`."""
    path, what = Path(path), "display file"
    data = _read_bytes(path, what)
    obj = _read_json(path, DISPLAY_FORMAT, what, data)
    try:
        labels, actions = obj["labels"], obj["actions"]
        if not isinstance(labels, dict) or not isinstance(actions, dict):
            raise ValueError("'labels' and 'actions' must be objects")
        return Display(
            labels={str(k): str(v) for k, v in labels.items()}, actions={str(k): str(v) for k, v in actions.items()}
        )
    except (KeyError, ValueError) as err:
        raise _malformed(path, what, err) from None
