"""Comparison levels in numpy: the level (gamma) of each field for a batch of variant pairs.

The recordlinkage engine scores every candidate pair with these; the Splink engine uses them to rank
the variant pairs behind each deterministic link (Splink computes its own levels in SQL, to the same
definitions, listed in linkage.engines.base). The deterministic stages take the name and DOB tests
(`jaro_winkler_distinct`, `one_character_slip`) from here too.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from exclusion_risk.linkage.engines.jaro_winkler import similarities
from exclusion_risk.linkage.settings import LinkageSettings, active_comparisons


def as_objects(s: pd.Series) -> np.ndarray:
    """A column as an object array, None where missing (what the comparisons below take)."""
    return s.astype(object).where(s.notna(), None).to_numpy()


def _missing(*arrays: np.ndarray) -> np.ndarray:
    out = np.zeros(len(arrays[0]), dtype=bool)
    for a in arrays:
        out |= pd.isna(a)
    return out


def _equal(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (~_missing(a, b)) & (a == b)


def one_character_slip(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Same-length strings differing in exactly one position (a one-digit slip in an ISO date)."""
    ok = ~_missing(a, b)
    out = np.zeros(len(a), dtype=bool)
    if ok.any():
        aa = np.asarray([x for x in a[ok]], dtype="U10")
        bb = np.asarray([x for x in b[ok]], dtype="U10")
        diff = (aa.view("U1").reshape(len(aa), -1) != bb.view("U1").reshape(len(bb), -1)).sum(axis=1)
        out[ok] = diff == 1
    return out


def jaro_winkler_distinct(a: pd.Series, b: pd.Series) -> np.ndarray:
    """Jaro-Winkler similarity (0 when missing), computed once per distinct pair of names.

    The same function the SQL engines call (linkage.engines.jaro_winkler): recordlinkage's own
    `String(method="jarowinkler")` calls jellyfish once per pair; names repeat so much that scoring
    each distinct pair once is several times faster, with the same values.
    """
    return np.nan_to_num(similarities(np.asarray(a, dtype=object), np.asarray(b, dtype=object)), nan=0.0)


def _levels(conditions: list[np.ndarray], missing: np.ndarray) -> np.ndarray:
    """First true condition wins: conditions[0] gives the top level, none true gives 0, missing -1."""
    level = np.zeros(len(missing), dtype=np.int64)
    for i, cond in enumerate(reversed(conditions)):
        level = np.where(cond, i + 1, level)
    return np.where(missing, -1, level)


def spelling_variant(jw: np.ndarray, same_code: np.ndarray | None, high: float, low: float) -> np.ndarray:
    """Names a spelling variant apart: Jaro-Winkler >= high, or >= low with the same Soundex code
    (Tasneem / Tasnim, Hossain / Hussain score about 0.91; random names rarely do both)."""
    close = jw >= high
    return close if same_code is None else close | ((jw >= low) & same_code)


def swapped_with_variants(cross_fs, cross_sf, code_fs, code_sf, equal_fs, equal_sf, high, low):
    """Forename and surname swapped, each a spelling variant of the other side's (cross Jaro-Winklers
    and Soundex codes), or one the same name (same forename group) and the other at least
    Jaro-Winkler >= low."""
    both_close = spelling_variant(cross_fs, code_fs, high, low) & spelling_variant(
        cross_sf, code_sf, high, low
    )
    return both_close | (equal_sf & (cross_fs >= low)) | (equal_fs & (cross_sf >= low))


def _name_levels(same, missing, f_l, f_r, s_l, s_r, jw, high, low, near_swap, same_code, swapped):
    """Levels of one name comparison whose exact level is `same` (or the names swapped)."""
    swapped = _equal(f_l, s_r) & _equal(s_l, f_r) if swapped is None else swapped
    near = spelling_variant(jw, same_code, high, low)
    near = near if near_swap is None else near | near_swap
    return _levels([same | swapped, near, jw >= low], missing)


def forename_levels(
    f_l, f_r, g_l, g_r, s_l, s_r, jw, high, low, near_swap=None, same_code=None, swapped=None
):
    """`near_swap`: swapped with variants (swapped_with_variants); `same_code`: same Soundex code;
    `swapped`: names swapped through forename groups (default: exact equality of the crossed names)."""
    same = _equal(g_l, g_r)
    return _name_levels(
        same, _missing(f_l, f_r), f_l, f_r, s_l, s_r, jw, high, low, near_swap, same_code, swapped
    )


def surname_levels(s_l, s_r, f_l, f_r, jw, high, low, near_swap=None, same_code=None, swapped=None):
    same = _equal(s_l, s_r)
    return _name_levels(
        same, _missing(s_l, s_r), f_l, f_r, s_l, s_r, jw, high, low, near_swap, same_code, swapped
    )


def extra_levels(a, b, kind, high, low):
    """An extra comparison's level: exact 1/0; jaro_winkler 3 equal, 2 >= high, 1 >= low, 0 else."""
    if kind == "exact":
        return exact_levels(a, b)
    jw = jaro_winkler_distinct(pd.Series(a, dtype=object), pd.Series(b, dtype=object))
    return _levels([_equal(a, b), jw >= high, jw >= low], _missing(a, b))


def year_one_out(d_l: np.ndarray, d_r: np.ndarray) -> np.ndarray:
    """ISO dates on the same day and month whose years differ by exactly one (2009-12-26, 2010-12-26)."""
    ok = ~_missing(d_l, d_r)
    out = np.zeros(len(d_l), dtype=bool)
    if ok.any():
        a = pd.Series(d_l[ok], dtype="string")
        b = pd.Series(d_r[ok], dtype="string")
        years = pd.to_numeric(a.str[:4], errors="coerce") - pd.to_numeric(b.str[:4], errors="coerce")
        out[ok] = ((a.str[5:] == b.str[5:]) & (years.abs() == 1)).fillna(False).to_numpy(dtype=bool)
    return out


def dob_levels(d_l, d_r, sw_l, sw_r, y_l, y_r):
    """Levels as linkage.engines.base lists them: a transposed day and month, or a birth year one out,
    keeps every digit of the date but one field, so it is stronger evidence than any one-digit slip."""
    reordered = _equal(d_l, sw_r) | _equal(sw_l, d_r) | year_one_out(d_l, d_r)
    return _levels(
        [_equal(d_l, d_r), reordered, one_character_slip(d_l, d_r), _equal(y_l, y_r)], _missing(d_l, d_r)
    )


def postcode_levels(p_l, p_r, sec_l, sec_r, dis_l, dis_r):
    return _levels([_equal(p_l, p_r), _equal(sec_l, sec_r), _equal(dis_l, dis_r)], _missing(p_l, p_r))


def exact_levels(a, b):
    return _levels([_equal(a, b)], _missing(a, b))


def empty_levels(pairs: pd.MultiIndex, settings: LinkageSettings) -> pd.DataFrame:
    """The levels frame of no pairs: one int64 gamma_<comparison> column per active comparison."""
    out = pd.DataFrame(index=pairs)
    for c in active_comparisons(settings):
        out[f"gamma_{c}"] = np.zeros(0, dtype=np.int64)
    return out


def pair_levels(
    settings: LinkageSettings,
    pairs: pd.MultiIndex,
    source: pd.DataFrame,
    census: pd.DataFrame,
    jw_forename: np.ndarray | None = None,
    jw_surname: np.ndarray | None = None,
) -> pd.DataFrame:
    """gamma_<comparison> of each (source variant, census variant) pair, index = `pairs`.

    `jw_forename`, `jw_surname`: the pairs' Jaro-Winkler similarities when already computed (the
    recordlinkage engine has them from its `Compare`); computed here otherwise.
    """
    if len(pairs) == 0:
        return empty_levels(pairs, settings)
    comps = active_comparisons(settings)
    out = pd.DataFrame(index=pairs)
    lpos = source.index.get_indexer(pairs.get_level_values(0))
    rpos = census.index.get_indexer(pairs.get_level_values(1))

    def side(frame, pos, col):
        return as_objects(frame[col])[pos]

    L = {c: side(source, lpos, c) for c in source.columns if c != "eid"}
    R = {c: side(census, rpos, c) for c in census.columns if c != "eid"}
    hi, lo = settings.comparisons.name_jw_high, settings.comparisons.name_jw_low
    if jw_forename is None:
        jw_forename = jaro_winkler_distinct(pd.Series(L["forename"]), pd.Series(R["forename"]))
    if jw_surname is None:
        jw_surname = jaro_winkler_distinct(pd.Series(L["surname"]), pd.Series(R["surname"]))
    cross_fs = jaro_winkler_distinct(pd.Series(L["forename"]), pd.Series(R["surname"]))
    cross_sf = jaro_winkler_distinct(pd.Series(L["surname"]), pd.Series(R["forename"]))
    # Each name the same as the other side's other name, read through forename groups
    # (`surname_group`: the surname's forename group; equal names have equal groups), as
    # Billy / Smith for Smith / William.
    same_fs = _equal(L["forename_group"], R["surname_group"])
    same_sf = _equal(L["surname_group"], R["forename_group"])
    swapped = same_fs & same_sf
    near_swap = swapped_with_variants(
        cross_fs,
        cross_sf,
        _equal(L["forename_code"], R["surname_code"]),
        _equal(L["surname_code"], R["forename_code"]),
        same_fs,
        same_sf,
        hi,
        lo,
    )
    sounds_f = _equal(L["forename_code"], R["forename_code"])
    sounds_s = _equal(L["surname_code"], R["surname_code"])
    out["gamma_forename"] = forename_levels(
        L["forename"],
        R["forename"],
        L["forename_group"],
        R["forename_group"],
        L["surname"],
        R["surname"],
        jw_forename,
        hi,
        lo,
        near_swap,
        sounds_f,
        swapped,
    )
    out["gamma_surname"] = surname_levels(
        L["surname"],
        R["surname"],
        L["forename"],
        R["forename"],
        jw_surname,
        hi,
        lo,
        near_swap,
        sounds_s,
        swapped,
    )
    out["gamma_dob"] = dob_levels(
        L["dob"], R["dob"], L["dob_swap"], R["dob_swap"], L["birth_year"], R["birth_year"]
    )
    if "sex" in comps:
        out["gamma_sex"] = exact_levels(L["sex"], R["sex"])
    if "postcode" in comps:
        out["gamma_postcode"] = postcode_levels(
            L["postcode"], R["postcode"], L["sector"], R["sector"], L["district"], R["district"]
        )
    if "upn" in comps:
        out["gamma_upn"] = exact_levels(L["upn"], R["upn"])
    for extra in settings.comparisons.extra:
        col = extra.variant_column
        out[f"gamma_{extra.name}"] = extra_levels(L[col], R[col], extra.kind, hi, lo)
    return out
