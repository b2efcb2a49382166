"""Standardise identifying fields into the variant frames both linkage engines compare.

A *variant* is one way an entity (a census pupil, an exclusion record, a social-care child) was
recorded: a pupil's rows across terms and years may spell a name differently, move postcode, or
carry a former UPN, and a hyphenated or multi-part surname may be recorded in part elsewhere. Each
distinct (forename, surname, DOB, sex, postcode, UPN) combination becomes one row keyed by `eid`;
engines score variant pairs and the pipeline keeps each entity pair's best.

Names: casefolded, accents and punctuation stripped; a multi-part or hyphenated surname yields the
whole (parts joined) plus each part; a forename also yields its group from `linkage.names`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

import jellyfish
import numpy as np
import pandas as pd

from exclusion_risk.linkage.arrow_text import TEXT, distinct_rows, per_distinct
from exclusion_risk.linkage.names import forename_group
from exclusion_risk.linkage.upn_columns import tidy_upn_column
from exclusion_risk.reference import normalise_postcode
from exclusion_risk.upn import valid_upn_mask

VARIANT_COLUMNS = [
    "eid",
    "forename",
    "forename_group",
    "forename_code",
    "surname",
    "surname_code",
    "surname_group",
    "dob",
    "dob_swap",
    "birth_year",
    "birth_month",
    "sex",
    "postcode",
    "sector",
    "district",
    "upn",
]
_NON_LETTER = re.compile(r"[^a-z\s\-]")
_SEPARATOR = re.compile(r"[\s\-]+")
# Letters that NFKD does not decompose into a base letter plus an accent.
_SPECIAL_LETTERS = str.maketrans(
    {"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i", "ß": "ss"}
)


@lru_cache(maxsize=200_000)
def name_tokens(value: str) -> tuple[str, ...]:
    """'  O'Brien-Smith ' -> ('obrien', 'smith'); 'José' -> ('jose',). Apostrophes join, hyphens split."""
    text = value.casefold().translate(_SPECIAL_LETTERS)
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    text = _NON_LETTER.sub("", text)
    return tuple(t for t in _SEPARATOR.split(text) if t)


def clean_name(values: pd.Series) -> pd.Series:
    """Standardised whole name (tokens joined without separator); missing or empty -> NA."""

    def clean(distinct: pd.Series) -> pd.Series:
        return distinct.map(lambda v: "".join(name_tokens(v)) or pd.NA, na_action="ignore").astype("string")

    return per_distinct(values.astype("string"), clean)


def surname_variants(value: object) -> list[str]:
    """The whole surname plus each part of a multi-part one ('Smith-Jones' -> smithjones, smith, jones)."""
    if not isinstance(value, str):
        return []
    tokens = name_tokens(value)
    if not tokens:
        return []
    whole = "".join(tokens)
    return [whole] + [t for t in tokens if len(t) > 1 and t != whole] if len(tokens) > 1 else [whole]


def forename_variants(value: object) -> list[str]:
    """The whole forename, plus its first token when it has several ('Mary Jane' -> maryjane, mary)."""
    if not isinstance(value, str):
        return []
    tokens = name_tokens(value)
    if not tokens:
        return []
    whole = "".join(tokens)
    return [whole, tokens[0]] if len(tokens) > 1 else [whole]


def middle_name_variants(value: object) -> list[str]:
    """Each middle name: a child may be known by one (often when the first name is Muhammad)."""
    if not isinstance(value, str):
        return []
    return [t for t in name_tokens(value) if len(t) > 1]


def census_pupil_ids(census: pd.DataFrame, upn: pd.Series | None = None) -> pd.Series:
    """Each census row's pupil: the newest UPN reached by following FormerUPN -> UPN links.

    A pupil first recorded under a temporary UPN appears later under a permanent one with the
    temporary one as FormerUPN; both rows are one pupil, known by the permanent UPN. A former UPN
    claimed by two different pupils is ambiguous and is not followed; two newer UPNs that are one
    pupil (a UPN keyed with a slip, merged into the pupil by _merge_mistyped_upns) are one claim. `upn`:
    tidy_upn_column(census["UPN"]), when the caller has it.
    """
    # Each distinct UPN tidied once: stripping a national census's 6,000,000 termly rows one by one
    # made three new strings per row (about 1 GB at 2,000,000 pupils).
    upn = tidy_upn_column(census["UPN"]) if upn is None else upn
    has_former = "FormerUPN" in census.columns
    former = tidy_upn_column(census["FormerUPN"]) if has_former else pd.Series(pd.NA, index=census.index)
    # Each distinct UPN is resolved and checked once, then spread over its rows by code (-1: missing).
    codes, distinct = pd.factorize(upn)
    distinct = np.asarray(distinct, dtype=object)
    # `at`: the newer UPN's place in `distinct`
    edges = pd.DataFrame({"old": former, "new": upn, "at": codes}).dropna().drop_duplicates()
    edges = edges[edges["old"] != edges["new"]]
    claims = edges.groupby("old")["new"].transform("nunique")
    newer = dict(zip(edges.loc[claims == 1, "old"], edges.loc[claims == 1, "new"], strict=True))

    def resolve(u: str) -> str:
        path = [u]
        seen = {u}
        while u in newer and newer[u] not in seen:
            u = newer[u]
            path.append(u)
            seen.add(u)
        if u in newer:  # a ring (A's former UPN is B and B's is A): one pupil, named by its least UPN
            return min(path[path.index(newer[u]):])
        return u

    resolved = np.array([resolve(u) for u in distinct], dtype=object)
    slips = _mistyped_upn_matches(census, codes, distinct)
    pupil = _merge_mistyped_upns(resolved, slips, distinct)
    # A former UPN claimed by several newer UPNs is followed where they are all one pupil once the
    # mistyped UPNs are merged (a pupil's permanent UPN and a slip of it both give their temporary UPN),
    # which may make another claim one pupil's: until none is.
    contested = edges[claims > 1]
    while not contested.empty:
        settled = _one_pupils_claims(contested, pupil[contested["at"].to_numpy()])
        if not settled:
            break
        newer.update(settled)
        contested = contested[~contested["old"].isin(list(settled)).to_numpy()]
        again = pd.Series(resolved, dtype=object).isin(list(settled)).to_numpy()
        resolved[again] = [resolve(u) for u in distinct[again]]
        pupil = _merge_mistyped_upns(resolved, slips, distinct)
    pupil = np.append(pupil, None)[codes]
    return pd.Series(pupil, index=upn.index, dtype="string", name=upn.name)


_FOLLOWED_MERGES = 20  # links through merged mistyped UPNs followed at most (a cycle ends there)


def _one_pupils_claims(contested: pd.DataFrame, owner: np.ndarray) -> dict[str, str]:
    """Former UPN -> pupil, for each former UPN (`contested["old"]`) whose newer UPNs are all one pupil
    (`owner`: each newer UPN's pupil), that pupil not being the former UPN itself."""
    frame = contested.assign(owner=owner)
    one = frame.groupby("old")["owner"].transform("nunique") == 1
    frame = frame[one & (frame["owner"] != frame["old"])].drop_duplicates("old")
    return dict(zip(frame["old"], frame["owner"], strict=True))


def _one_keying_slip(a: str, b: str) -> bool:
    """Equal-length strings differing in one character, or in two adjacent characters swapped."""
    if len(a) != len(b) or a == b:
        return False
    diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    if len(diff) == 1:
        return True
    return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]


def _one_slip_away(mistyped: np.ndarray, valid: np.ndarray) -> set[str]:
    """Every spelling one keying slip (_one_keying_slip) from a mistyped UPN, in the characters the valid
    UPNs use and at their lengths: a superset of the valid UPNs a mistyped one can be (distinct UPNs in)."""
    alphabet = sorted(set("".join(valid)))
    lengths = {len(v) for v in valid}
    out: set[str] = set()
    for value in mistyped:
        if len(value) not in lengths:
            continue
        for i in range(len(value)):
            out.update(value[:i] + c + value[i + 1 :] for c in alphabet)
            if i + 1 < len(value):
                out.add(value[:i] + value[i + 1] + value[i] + value[i + 2 :])
    return out


def _mistyped_upn_matches(census: pd.DataFrame, codes: np.ndarray, distinct: np.ndarray) -> pd.DataFrame:
    """The valid UPNs each UPN failing its check letter may be: one keying slip away (a digit or letter
    wrong, or two swapped), on a row with the same surname, forename and DOB. Positions in `distinct`:
    `at` the mistyped UPN's, `good_at` the valid one's. `codes`, `distinct`: the UPNs factorized
    (-1: missing)."""
    none = pd.DataFrame({"at": pd.Series(dtype="int64"), "good_at": pd.Series(dtype="int64")})
    if not {"Surname", "Forename", "DOB"} <= set(census.columns):
        return none
    valid = valid_upn_mask(pd.Series(distinct, dtype="string")).to_numpy()
    if valid.all():
        return none
    # The keys are built only for the rows that can pair: the mistyped UPNs' and those of the valid UPNs
    # one keying slip from one (built for the whole census, at 2,000,000 pupils they took 1.2 GB and 23 s).
    slips = _one_slip_away(distinct[~valid], distinct[valid])
    can_pair = ~valid | np.fromiter((u in slips for u in distinct), dtype=bool, count=len(distinct))
    near = (codes >= 0) & can_pair[codes]
    key = (
        clean_name(census.loc[near, "Surname"])
        + "|"
        + clean_name(census.loc[near, "Forename"])
        + "|"
        + dob_fields(census.loc[near, "DOB"])["dob"]
    )
    # by position: the census's index may repeat a label
    at = codes[near]
    frame = pd.DataFrame({"key": key.to_numpy(), "at": at, "mistyped": ~valid[at]}).dropna(subset=["key"])
    # every valid UPN of a pupil is compared, not only the first row's (a pupil recorded under a
    # temporary UPN and then a permanent one has two)
    frame = frame.drop_duplicates(["key", "at"])
    pairs = frame[frame["mistyped"]].merge(frame[~frame["mistyped"]], on="key", suffixes=("", "_good"))
    pairs = pairs.rename(columns={"at_good": "good_at"})[["at", "good_at"]].drop_duplicates()
    slip = [_one_keying_slip(distinct[a], distinct[b]) for a, b in pairs.itertuples(index=False)]
    return pairs[np.array(slip, dtype=bool)]


def _merge_mistyped_upns(resolved: np.ndarray, slips: pd.DataFrame, distinct: np.ndarray) -> np.ndarray:
    """Each distinct UPN's pupil (`resolved`: the pupil each is, FormerUPN links followed) with a UPN
    failing its check letter taken as the pupil of the valid UPNs it may be (`slips`:
    _mistyped_upn_matches), when they are exactly one pupil; otherwise it stays a pupil of its own. A UPN
    whose links end at a merged mistyped UPN (a temporary UPN given as FormerUPN under the slip) is the
    pupil it was merged into."""
    if slips.empty:
        return resolved
    good = resolved[slips["good_at"].to_numpy()]
    one = (pd.Series(good).groupby(slips["at"].to_numpy()).transform("nunique") == 1).to_numpy()
    pupil = resolved.copy()
    pupil[slips["at"].to_numpy()[one]] = good[one]
    at = np.unique(slips["at"].to_numpy()[one])
    # a UPN is another's pupil only where its links were followed, or where it was merged
    linked = np.union1d(np.flatnonzero(resolved != distinct), at)
    for _ in range(_FOLLOWED_MERGES):  # a merged UPN's pupil may itself end at a merged UPN
        into = dict(zip(distinct[at], pupil[at], strict=True))  # merged UPN -> the pupil it is now
        hit = linked[pd.Series(pupil[linked], dtype=object).isin(distinct[at]).to_numpy()]
        now = np.array([into[u] for u in pupil[hit]], dtype=object)
        moved = now != pupil[hit]
        if not moved.any():
            break
        pupil[hit[moved]] = now[moved]
    return pupil


def unify_sex(values: pd.Series) -> pd.Series:
    """M/F, male/female and the CIN codes 1 (male) / 2 (female) -> M/F; 0, 9 and anything else -> NA."""
    mapping = {"M": "M", "MALE": "M", "1": "M", "F": "F", "FEMALE": "F", "2": "F"}

    def unify(distinct: pd.Series) -> pd.Series:
        return distinct.str.strip().str.upper().map(mapping, na_action="ignore").astype("string")

    return per_distinct(values.astype("string"), unify)


def parse_dob(values: pd.Series) -> pd.Series:
    """Datetimes pass through; strings in ISO or UK day-first form are parsed; bad values -> NaT."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values
    s = values.astype("string").str.strip().str.slice(0, 10)
    iso = pd.to_datetime(s, format="%Y-%m-%d", errors="coerce")
    uk = pd.to_datetime(s, format="%d/%m/%Y", errors="coerce")
    return iso.fillna(uk)


def dob_fields(dob: pd.Series) -> pd.DataFrame:
    """ISO date string, the day-month transposed date (when it is a valid different date), year, month."""
    return per_distinct(parse_dob(dob), _dob_fields)


def _dob_fields(dob: pd.Series) -> pd.DataFrame:
    iso = dob.dt.strftime("%Y-%m-%d").astype("string")
    day, month = dob.dt.day, dob.dt.month
    swappable = dob.notna() & (day <= 12) & (day != month)
    swap = (
        dob.dt.year.astype("Int64").astype("string")
        + "-"
        + day.astype("Int64").astype("string").str.zfill(2)
        + "-"
        + month.astype("Int64").astype("string").str.zfill(2)
    )
    return pd.DataFrame(
        {
            "dob": iso,
            "dob_swap": swap.where(swappable).astype("string"),
            "birth_year": dob.dt.year.astype("Int64").astype("string"),
            "birth_month": month.astype("Int64").astype("string"),
        },
        index=dob.index,
    )


def postcode_fields(postcodes: pd.Series) -> pd.DataFrame:
    """Normalised postcode, its sector ('WS1 1') and district ('WS1')."""
    # as text first, as normalise_postcode reads it: 12345 and 12345.0 in an object column are one
    # distinct value to factorize but two postcodes
    text = postcodes if isinstance(postcodes.dtype, pd.StringDtype) else postcodes.astype("string")
    return per_distinct(text, _postcode_fields)


def _postcode_fields(postcodes: pd.Series) -> pd.DataFrame:
    pc = normalise_postcode(postcodes)
    return pd.DataFrame(
        {"postcode": pc, "sector": pc.str[:-2], "district": pc.str.split(" ").str[0]}, index=postcodes.index
    )


def _codes(values: pd.Series) -> pd.Series:
    """Soundex of each distinct value (phonetic blocking key; transliterations usually share one)."""
    uniq = values.dropna().unique()
    table = {v: jellyfish.soundex(v) for v in uniq}
    return values.map(table, na_action="ignore").astype("string")


def _forename_groups(names: pd.Series) -> pd.Series:
    return names.map(forename_group, na_action="ignore").astype("string")


def valid_upns(values: pd.Series) -> pd.Series:
    """The UPN in its tidy form (upn.upn_key) where its check letter is right; NA otherwise (an invalid
    UPN is not trusted)."""
    s = tidy_upn_column(values)
    return s.where(valid_upn_mask(s)).astype("string")


def clean_extra(values: pd.Series) -> pd.Series:
    """An extra comparison's field: casefolded, whitespace collapsed; missing or empty -> NA."""
    s = values.astype("string").str.casefold().str.replace(r"\s+", " ", regex=True).str.strip()
    return s.mask(s == "").astype("string")


# Distinct rows standardised at a time, so that the per-row lists and exploded frames of a national
# census are never all in memory at once.
CHUNK_ROWS = 500_000


@dataclass(frozen=True)
class IdentityColumns:
    """Where an extract records its entities' identifiers, beyond the id, Forename, DOB, Sex and
    Postcode every source has (standardise's options of the same names)."""

    surname_columns: tuple[str, ...] = ("Surname",)
    upn_columns: tuple[str, ...] = ("UPN",)
    middle_names_column: str | None = None
    extra_columns: dict[str, str] = field(default_factory=dict)

    def used(self, id_column: str) -> list[str]:
        """Every column standardise reads, once each, in its order."""
        used = [id_column, "Forename", "DOB", "Sex", "Postcode", *self.surname_columns, *self.upn_columns]
        if self.middle_names_column is not None:
            used.append(self.middle_names_column)
        used.extend(self.extra_columns.values())
        return list(dict.fromkeys(used))


def identity_rows(frame: pd.DataFrame, id_column: str, columns: IdentityColumns) -> pd.DataFrame:
    """The columns of `frame` that `standardise` reads (`columns`: its options), each distinct
    combination once, first occurrences in their order: standardise gives the same variants from these
    rows as from `frame`, so a caller may let `frame` go before standardising them."""
    # Census rows repeat each pupil's identifiers every term: standardise each distinct set once.
    return distinct_rows(frame[[c for c in columns.used(id_column) if c in frame.columns]])


def standardise(
    frame: pd.DataFrame,
    id_column: str,
    *,
    surname_columns: tuple[str, ...] = ("Surname",),
    upn_columns: tuple[str, ...] = ("UPN",),
    middle_names_column: str | None = None,
    extra_columns: dict[str, str] | None = None,
    chunk_rows: int = CHUNK_ROWS,
    distinct: bool = False,
) -> pd.DataFrame:
    """Variant rows (VARIANT_COLUMNS, then the extra columns) for the entities of `frame`, one per
    distinct combination.

    `surname_columns`: every column whose surname the entity may be recorded under (census adds
    PreferredSurname and FormerSurname); `upn_columns`: the UPN and any former UPN;
    `middle_names_column`: middle names, each also a forename the entity may be recorded under;
    `extra_columns`: variant column -> source column of the run's extra comparisons
    (`clean_extra`; a source column the frame lacks gives NA).

    `chunk_rows` distinct rows at a time, so the working memory does not grow with the whole input:
    the same rows in the same order as in one go (a chunk's variants follow its rows' order, and a
    variant an earlier chunk already gave is dropped, as the one-go de-duplication keeps first
    occurrences).

    `distinct`: `frame` is already identity_rows of the same options, taken as it is (a
    second de-duplication would copy it: 2,000,000 pupils' census identities are about 0.3 GB).
    """
    extra_columns = dict(extra_columns or {})
    # De-duplicated before chunking: a census lists every pupil each term, so a chunk of raw rows
    # would be nearly every pupil again.
    if not distinct:
        columns = IdentityColumns(surname_columns, upn_columns, middle_names_column, extra_columns)
        frame = identity_rows(frame, id_column, columns)
    options = {
        "id_column": id_column,
        "surname_columns": surname_columns,
        "upn_columns": upn_columns,
        "middle_names_column": middle_names_column,
        "extra_columns": extra_columns,
    }
    if len(frame) <= chunk_rows:
        return _standardise_rows(frame, **options)
    # A variant can repeat in a later chunk only for an entity with rows in more than one chunk: those
    # entities' variants are remembered and dropped when they come again, so the chunks are joined
    # without de-duplicating them all again (at 2,000,000 pupils that took 0.85 GB above the variants).
    ids = frame[id_column].astype("string").to_numpy()
    chunk = pd.Series(np.arange(len(frame)) // chunk_rows).groupby(ids, sort=False)
    spanning = set(ids[(chunk.transform("min") != chunk.transform("max")).to_numpy()])
    seen: set[tuple] = set()
    parts = []
    for start in range(0, len(frame), chunk_rows):
        part = _standardise_rows(frame.iloc[start : start + chunk_rows], **options)
        again = part["eid"].isin(spanning).to_numpy()
        if again.any():
            rows = part[again]
            values = [rows[c].to_numpy(dtype=object, na_value=None) for c in rows.columns]
            variants = list(zip(*values, strict=True))
            repeated = np.array([v in seen for v in variants], dtype=bool)
            seen.update(variants)
            part = part.drop(index=rows.index[repeated])
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def _standardise_rows(
    frame: pd.DataFrame,
    *,
    id_column: str,
    surname_columns: tuple[str, ...],
    upn_columns: tuple[str, ...],
    middle_names_column: str | None,
    extra_columns: dict[str, str],
) -> pd.DataFrame:

    def col(name: str) -> pd.Series:
        return frame[name] if name in frame.columns else pd.Series(pd.NA, index=frame.index, dtype="string")

    base = pd.DataFrame({"eid": frame[id_column].astype("string").to_numpy()}, index=frame.index)
    base = base.join(dob_fields(col("DOB"))).join(postcode_fields(col("Postcode")))
    base["sex"] = unify_sex(col("Sex"))
    for variant_column, source_column in extra_columns.items():
        base[variant_column] = clean_extra(col(source_column))
    # the variant lists are computed per distinct name; rows share a list object, never mutated
    base["_fore"] = per_distinct(col("Forename"), lambda names: names.map(forename_variants))
    if middle_names_column is not None:
        middles = per_distinct(col(middle_names_column), lambda names: names.map(middle_name_variants))
        base["_fore"] = [
            f + [m for m in ms if m not in f] for f, ms in zip(base["_fore"], middles, strict=True)
        ]
    surnames = [per_distinct(col(c), lambda names: names.map(surname_variants)) for c in surname_columns]
    base["_sur"] = [sum(parts, []) for parts in zip(*surnames, strict=True)] if surnames else [[]] * len(base)
    # plain objects (None for missing): iterating an arrow-backed column element by element is slow
    upns = [valid_upns(col(c)).to_numpy(dtype=object, na_value=None) for c in upn_columns]
    base["_upn"] = [
        list(dict.fromkeys(u for u in vals if isinstance(u, str))) for vals in zip(*upns, strict=True)
    ]
    # Drop exact duplicate source rows (the same pupil on three termly censuses) before exploding.
    key = base.drop(columns=["_fore", "_sur", "_upn"]).astype("string").fillna("\x00")
    key["_f"] = base["_fore"].map(tuple).astype("string")
    key["_s"] = base["_sur"].map(tuple).astype("string")
    key["_u"] = base["_upn"].map(tuple).astype("string")
    base = base[~key.duplicated()]
    out = base.explode("_fore").explode("_sur").explode("_upn")
    out = out.rename(columns={"_fore": "forename", "_sur": "surname", "_upn": "upn"})
    for c in ("forename", "surname", "upn"):
        out[c] = out[c].astype("string")
    out["forename_group"] = per_distinct(out["forename"], _forename_groups)
    # The surname read as a forename (its forename group): a swap of Mo / Hussain for Hussain /
    # Muhammad compares "mo" with "muhammad" through the group.
    out["surname_group"] = per_distinct(out["surname"], _forename_groups)
    out["forename_code"] = _codes(out["forename_group"])
    out["surname_code"] = _codes(out["surname"])
    columns = VARIANT_COLUMNS + list(extra_columns)
    out = out[columns].drop_duplicates().reset_index(drop=True)
    # Arrow text, not Python string objects: a fifth of the memory (2,000,000 pupils' variants
    # ~3.4 GB -> ~0.7 GB), and DuckDB scans it without a conversion.
    return out.astype({c: TEXT for c in columns})
