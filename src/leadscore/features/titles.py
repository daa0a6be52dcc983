"""Free-text job titles -> seniority and department.

CRM job titles are typed by hand ("vp, sales", "Sr. Mktg Mgr", "Founder & CEO", "n/a"). Models
need the two facts behind them: how senior the contact is and which function they work in. The
rules below are general keyword rules (not a lookup of known titles) so they carry over to exports
they were never tuned on. They are applied in a fixed order because titles combine words that
point different ways: "Assistant to the VP" is an assistant, "Vice President" is not a president,
"Co-Founder & CTO" is in engineering.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SENIORITY_LEVELS = ("c_level", "vp", "director", "manager", "individual_contributor", "student", "unknown")
DEPARTMENTS = (
    "executive",
    "sales",
    "marketing",
    "engineering",
    "it",
    "finance",
    "operations",
    "hr",
    "other",
    "unknown",
)

# Placeholders reps type when they do not know the title; compared after punctuation is stripped,
# so "n/a", "N.A." and "-" all end up here (the last two as "na" and "").
_JUNK = {
    "",
    "na",
    "n a",
    "none",
    "null",
    "nil",
    "unknown",
    "tbd",
    "test",
    "testing",
    "asdf",
    "asd",
    "qwerty",
    "xxx",
    "xx",
    "x",
    "abc",
    "nan",
    "no title",
    "not provided",
    "other",
    "title",
}

# Abbreviations expanded before matching, so each rule below only has to know one spelling.
_EXPANSIONS = (
    (r"\bvice pres(?:ident)?\b", "vp"),
    (r"\bv p\b", "vp"),
    (r"\bsr\b|\bsnr\b", "senior"),
    (r"\bjr\b", "junior"),
    (r"\bmgr\b|\bmngr\b|\bmgmt\b", "manager"),
    (r"\bdir\b", "director"),
    (r"\bmktg\b|\bmkt\b", "marketing"),
    (r"\bexec\b", "executive"),
    (r"\bco founder\b|\bcofounder\b", "founder"),
)

# --- seniority rules, first match wins -------------------------------------------------------
_STUDENT = r"\b(?:student|intern|internship|trainee|apprentice|working student|phd candidate|mba candidate)\b"
# "Assistant Vice President" (banking) sits one step below VP; "Assistant Director" below director.
_ASSISTANT_VP = r"\b(?:assistant|associate) vp\b|\bavp\b"
_ASSISTANT_DIRECTOR = r"\b(?:assistant|associate|deputy) director\b"
# An assistant *to* someone senior is not senior: catch the noun before any senior keyword.
# "Assistant Manager" is a manager, so only "assistant" used as the noun counts.
_ASSISTANT = (
    r"\b(?:assistant|asst)\b(?! (?:manager|director|vp|controller|general manager|head|professor))"
    r"|\b(?:secretary|receptionist|pa to)\b"
)
_NOT_C_LEVEL = r"\b(?:product owner|process owner|chief of staff)\b"
_VP = r"\b(?:vp|svp|evp)\b"
_C_LEVEL = (
    r"\b(?:ceo|cfo|cto|cio|coo|cmo|cro|cso|cpo|cdo|chro|ciso|cco|chief|founder|owner|president"
    r"|proprietor|managing director|managing partner|founding partner|general partner|geschaftsfuhrer"
    r"|chairman|chairwoman|chairperson)\b"
)
_DIRECTOR = r"\b(?:director|head|chief of staff)\b"
_MANAGER = r"\b(?:manager|supervisor|team lead|team leader|foreman|controller)\b"

# --- department rules ------------------------------------------------------------------------
# Chief-X titles name their function explicitly; they win over any other keyword in the title.
_CHIEF_DEPARTMENTS = (
    ("sales", r"\b(?:cro|chief (?:revenue|sales|commercial|business) officer|chief revenue|chief sales)\b"),
    ("marketing", r"\b(?:cmo|chief (?:marketing|growth|brand) officer|chief marketing)\b"),
    ("engineering", r"\b(?:cto|chief (?:technology|technical|product) officer|chief technology)\b"),
    ("it", r"\b(?:cio|ciso|chief (?:information|information security|digital|data) officer)\b"),
    ("finance", r"\b(?:cfo|chief (?:financial|finance|accounting) officer|chief financial)\b"),
    ("operations", r"\b(?:coo|chief (?:operating|operations) officer|chief operating)\b"),
    ("hr", r"\b(?:chro|chief (?:people|human resources|hr|talent) officer)\b"),
)
# Function keywords, in priority order: "Sales Operations" is sales, "IT Operations" is IT,
# "Network Engineer" is IT, "Technical Recruiter" and "People Operations" are HR; operations is
# the weakest keyword because it is so often a modifier.
_FUNCTION_DEPARTMENTS = (
    (
        "sales",
        r"\b(?:sales|revenue|business development|biz ?dev|bdr|sdr|account executive|account manager"
        r"|account director|inside sales|commercial|partnerships?|channel|salesperson)\b",
    ),
    (
        "marketing",
        r"\b(?:marketing|marketer|growth|demand gen(?:eration)?|brand|content|seo|sem|communications|comms"
        r"|public relations|social media|advertising|campaigns?|events?)\b",
    ),
    (
        "hr",
        r"\b(?:hr|human resources|people|talent|recruiter|recruiting|recruitment|hiring|benefits"
        r"|compensation|learning and development)\b",
    ),
    (
        "it",
        r"\b(?:it|ict|information technology|information systems|sysadmin|system administrator"
        r"|systems administrator|network|helpdesk|help desk|desktop support|it support|infrastructure"
        r"|information security|cyber ?security|infosec|database administrator|dba)\b",
    ),
    (
        "engineering",
        r"\b(?:engineer|engineering|developer|development engineer|software|devops|sre|programmer"
        r"|architect|data scientist|machine learning|r ?& ?d|research and development|technology"
        r"|qa|full stack|backend|frontend|web developer)\b",
    ),
    (
        "finance",
        r"\b(?:finance|financial|accountant|accounting|accounts payable|accounts receivable|controller"
        r"|bookkeeper|bookkeeping|treasury|treasurer|fp ?& ?a|audit|auditor|tax|payroll)\b",
    ),
    (
        "operations",
        r"\b(?:operations|ops|logistics|supply chain|procurement|purchasing|facilities|warehouse"
        r"|fulfillment|fulfilment)\b",
    ),
)
_EXECUTIVE = (
    r"\b(?:ceo|chief executive|founder|owner|president|proprietor|managing director|managing partner"
    r"|founding partner|general partner|geschaftsfuhrer|chairman|chairwoman|chairperson)\b"
)


def _clean(titles: pd.Series) -> pd.Series:
    # Case-, accent-, punctuation- and whitespace-insensitive text; "&" kept so "R&D"/"FP&A" survive.
    text = titles.astype("string").str.normalize("NFKD").str.encode("ascii", "ignore").str.decode("ascii")
    text = text.astype("string").fillna("").str.casefold()
    text = text.str.replace(r"[^a-z0-9&]+", " ", regex=True)
    text = text.str.replace(r"\s*&\s*", " & ", regex=True).str.strip()
    for pattern, replacement in _EXPANSIONS:
        text = text.str.replace(pattern, replacement, regex=True)
    return text


def _first_match(text: pd.Series, rules: tuple[tuple[str, str], ...]) -> np.ndarray:
    # Label of the first rule whose pattern occurs in the text, "" when none does.
    conditions = [text.str.contains(pattern, regex=True).to_numpy(dtype=bool) for _, pattern in rules]
    return np.select(conditions, [label for label, _ in rules], default="").astype(object)


def _classify(text: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    # Rules on cleaned, distinct titles; returns (seniority, department) arrays aligned with text.
    def has(pattern: str) -> np.ndarray:
        return text.str.contains(pattern, regex=True).to_numpy(dtype=bool)

    # A title with no letters at all ("-", "123", "???") carries no information.
    unknown = text.isin(_JUNK).to_numpy(dtype=bool) | ~has(r"[a-z]")
    not_c_level = has(_NOT_C_LEVEL)
    assistant = has(_ASSISTANT)
    # np.select takes the first true condition, which is exactly the rule order we want.
    seniority = np.select(
        [
            unknown,
            has(_STUDENT),
            has(_ASSISTANT_VP),
            has(_ASSISTANT_DIRECTOR),
            assistant,
            has(_VP),
            has(_C_LEVEL) & ~not_c_level,
            has(_DIRECTOR),
            has(_MANAGER),
        ],
        ["unknown", "student", "director", "manager", "individual_contributor", "vp", "c_level", "director", "manager"],
        default="individual_contributor",
    ).astype(object)

    is_assistant = (seniority == "individual_contributor") & assistant
    # For "Executive Assistant to the VP Sales" the function is the assistant's own (the words
    # before "to"), not the boss's.
    own_words = text.where(~is_assistant, text.str.replace(r"\b(?:to|for)\b.*$", "", regex=True))
    chief_dept = _first_match(text, _CHIEF_DEPARTMENTS)
    function_dept = _first_match(own_words, _FUNCTION_DEPARTMENTS)
    executive = has(_EXECUTIVE) & ~not_c_level
    department = np.select(
        [
            unknown,
            is_assistant & (function_dept != ""),
            is_assistant,  # the CEO's assistant works for the executive team but is not in it
            chief_dept != "",
            function_dept != "",
            executive & (seniority == "c_level"),
        ],
        ["unknown", function_dept, "other", chief_dept, function_dept, "executive"],
        default="other",
    ).astype(object)
    return seniority, department


# Distinct raw title -> (seniority, department): a pure function's answers, remembered across calls.
_CLASSIFIED: dict[object, tuple[str, str]] = {}
_MAX_CLASSIFIED = 200_000


def normalise_titles(titles: pd.Series) -> pd.DataFrame:
    """Map free-text job titles to a seniority level and a department.

    Parameters
    ----------
    titles : pd.Series
        Job titles as typed in the CRM; any dtype, missing values allowed.

    Returns
    -------
    pd.DataFrame
        Columns ``seniority`` (one of :data:`SENIORITY_LEVELS`) and ``department`` (one of
        :data:`DEPARTMENTS`), with the index of ``titles``. Missing, empty and placeholder titles
        ("n/a", "-", "asdf") are ``"unknown"`` in both columns; any other title that matches no
        seniority keyword is an individual contributor.
    """
    # Exports repeat the same few thousand titles; classify each distinct title once, and remember
    # the answer across calls (batch scoring calls this once per chunk with mostly the same titles).
    codes, uniques = pd.factorize(titles, use_na_sentinel=True)
    distinct = np.asarray(uniques, dtype=object)
    known = [_CLASSIFIED.get(v) for v in distinct]
    new = [i for i, k in enumerate(known) if k is None]
    if new:
        text = _clean(pd.Series(distinct[new], dtype=object))
        seniority_new, department_new = _classify(text)
        if len(_CLASSIFIED) + len(new) > _MAX_CLASSIFIED:
            _CLASSIFIED.clear()  # bounded memory: free-text exports can have millions of titles
        for i, s, d in zip(new, seniority_new, department_new, strict=True):
            known[i] = (s, d)
            _CLASSIFIED[distinct[i]] = (s, d)
    pairs = [k for k in known if k is not None]
    assert len(pairs) == len(known)  # every distinct title was classified above
    seniority = np.array([s for s, _ in pairs] + ["unknown"], dtype=np.object_)
    department = np.array([d for _, d in pairs] + ["unknown"], dtype=np.object_)
    # Sentinel code -1 (missing title) points at the appended "unknown".
    return pd.DataFrame({"seniority": seniority[codes], "department": department[codes]}, index=titles.index)
