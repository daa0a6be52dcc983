"""Reading cell values the same way everywhere: numbers, category text and ids."""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadscore.data.values import clean_distinct, id_text, looks_numeric, parse_numbers


def test_parse_numbers_marks_text_and_infinities_as_bad_not_missing():
    values = pd.Series([1, "2.5", " 3 ", None, "", "Select", "n/a-ish", "inf", -np.inf, True], dtype=object)
    numbers, bad = parse_numbers(values, missing_values=("Select",))
    np.testing.assert_array_equal(numbers[:3], [1.0, 2.5, 3.0])
    assert np.isnan(numbers[3:9]).all() and numbers[9] == 1.0
    assert bad.tolist() == [False, False, False, False, False, False, True, True, True, False]


def test_parse_numbers_on_numeric_columns():
    numbers, bad = parse_numbers(pd.Series([1.0, np.inf, np.nan]))
    assert bad.tolist() == [False, True, False] and np.isnan(numbers[1:]).all()
    numbers, bad = parse_numbers(pd.Series([True, False]))
    assert numbers.tolist() == [1.0, 0.0] and not bad.any()


def test_clean_distinct_cleans_each_distinct_value_once_and_maps_back():
    values = pd.Series(["Software", "software ", None, "Fin. Services", "  "], dtype=object)
    codes, cleaned = clean_distinct(values, aliases={"fin. services": "Financial Services"})
    rows = np.append(cleaned.to_numpy(dtype=object), None)[codes]
    assert rows.tolist() == ["software", "software", None, "financial services", None]
    assert len(cleaned) == 4  # "Software", "software ", "Fin. Services", "  "


def test_clean_distinct_gives_the_same_answer_from_its_memory():
    values = pd.Series(["  Retail ", "retail", "MEDIA"], dtype="str")
    first = clean_distinct(values)[1].tolist()
    assert clean_distinct(values)[1].tolist() == first == ["retail", "retail", "media"]


def test_looks_numeric():
    assert looks_numeric(pd.Series(["42", "3.5", "1e3", "abc", None, "inf"], dtype=object)).tolist() == [
        True,
        True,
        True,
        False,
        False,
        False,
    ]


def test_ids_are_text():
    assert id_text(pd.Series(["0000042", None], dtype=object)).tolist()[0] == "0000042"
    assert id_text(pd.Series([42, 7])).tolist() == ["42", "7"]
    as_float = id_text(pd.Series([42.0, np.nan]))
    assert as_float.iloc[0] == "42" and pd.isna(as_float.iloc[1])
    assert id_text(pd.Series([1.5])).tolist() == ["1.5"]
