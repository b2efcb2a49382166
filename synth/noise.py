"""Identifier noise as real exclusion logs and social-care systems have it.

Each function takes clean identifiers (one per record) and returns what the other system recorded:
blank, stale or mistyped UPNs; spelling variants, nicknames, typos, swapped or partial names;
day-month swaps and one-digit slips in dates of birth. Rates come from `config.NoiseRates`.
"""

from __future__ import annotations

import numpy as np

from exclusion_risk.upn import is_valid_upn

from .config import NoiseRates
from .names import NICKNAMES, variant_table

_VARIANTS = variant_table()
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_KEYBOARD_NEIGHBOURS = {
    "a": "sq", "b": "vn", "c": "xv", "d": "sf", "e": "wr", "f": "dg", "g": "fh", "h": "gj", "i": "uo",
    "j": "hk", "k": "jl", "l": "k", "m": "n", "n": "bm", "o": "ip", "p": "o", "q": "wa", "r": "et",
    "s": "ad", "t": "ry", "u": "yi", "v": "cb", "w": "qe", "x": "zc", "y": "tu", "z": "x",
}  # fmt: skip


def mistype_upn(upn: str, rng: np.random.Generator) -> str:
    """One digit changed or two adjacent digits swapped: the check letter then no longer fits."""
    chars = list(upn)
    for _ in range(10):
        trial = chars.copy()
        pos = int(rng.integers(1, 12))
        if rng.random() < 0.5 and trial[pos] != trial[pos + 1] and trial[pos + 1].isdigit():
            trial[pos], trial[pos + 1] = trial[pos + 1], trial[pos]
        else:
            trial[pos] = str((int(trial[pos]) + int(rng.integers(1, 10))) % 10)
        out = "".join(trial)
        if not is_valid_upn(out):
            return out
    return upn[:-1] + ("0" if upn[-1] != "0" else "1")


def typo(name: str, rng: np.random.Generator) -> str:
    """A keying slip: a neighbouring key, a dropped or doubled letter, or two letters swapped."""
    if len(name) < 3:
        return name
    pos = int(rng.integers(1, len(name) - 1))
    kind = int(rng.integers(0, 4))
    ch = name[pos]
    if kind == 0 and ch.lower() in _KEYBOARD_NEIGHBOURS:
        new = rng.choice(list(_KEYBOARD_NEIGHBOURS[ch.lower()]))
        return name[:pos] + (new.upper() if ch.isupper() else new) + name[pos + 1 :]
    if kind == 1:
        return name[:pos] + name[pos + 1 :]
    if kind == 2:
        return name[:pos] + ch + name[pos:]
    if name[pos + 1 : pos + 2] and name[pos + 1] != ch:
        return name[:pos] + name[pos + 1] + ch + name[pos + 2 :]
    return name[:pos] + name[pos + 1 :]


def spelling_variant(name: str, rng: np.random.Generator) -> str:
    options = _VARIANTS.get(name)
    return str(rng.choice(options)) if options else name


def nickname(forename: str, middle: str, rng: np.random.Generator) -> str:
    options = NICKNAMES.get(forename)
    if options:
        return str(rng.choice(options))
    if middle:  # known by a middle name (common when the first name is Muhammad)
        return middle
    return forename


def dob_day_month_swap(dob: np.datetime64) -> np.datetime64:
    y, m, d = str(dob)[:10].split("-")
    if int(d) > 12 or d == m:
        return dob
    return np.datetime64(f"{y}-{d}-{m}")


def dob_digit_slip(dob: np.datetime64, rng: np.random.Generator) -> np.datetime64:
    """One digit of the day, month or year keyed wrong (the result is still a real date)."""
    y, m, d = (int(p) for p in str(dob)[:10].split("-"))
    for _ in range(10):
        part = int(rng.integers(0, 3))
        yy, mm, dd = y, m, d
        if part == 0:
            dd = (d // 10) * 10 + int(rng.integers(0, 10))
        elif part == 1:
            mm = m + int(rng.choice([-1, 1]))
        else:
            yy = y + int(rng.choice([-1, 1]))
        if (yy, mm, dd) == (y, m, d) or not 1 <= mm <= 12 or not 1 <= dd <= 31:
            continue
        try:
            return np.datetime64(f"{yy:04d}-{mm:02d}-{dd:02d}")
        except ValueError:
            continue
    return dob


def add_identity_noise(
    rates: NoiseRates,
    rng: np.random.Generator,
    *,
    upn: np.ndarray,
    former_upn: np.ndarray,
    twin_upn: np.ndarray,
    forename: np.ndarray,
    middle: np.ndarray,
    surname: np.ndarray,
    preferred_surname: np.ndarray,
    dob: np.ndarray,
) -> dict[str, np.ndarray]:
    """Noisy copies of the identifiers of m records. Blank values are returned as ""/NaT."""
    m = len(upn)
    upn = upn.astype(object).copy()
    forename = forename.astype(object).copy()
    surname = surname.astype(object).copy()
    dob = dob.astype("datetime64[D]").copy()

    stale = (former_upn != "") & (rng.random(m) < rates.upn_stale)
    upn[stale] = former_upn[stale]
    to_twin = (twin_upn != "") & (rng.random(m) < rates.upn_twin)
    upn[to_twin] = twin_upn[to_twin]
    for i in np.flatnonzero((upn != "") & (rng.random(m) < rates.upn_mistyped)):
        upn[i] = mistype_upn(upn[i], rng)
    upn[rng.random(m) < rates.upn_blank] = ""

    # the surname a child is known by can be a preferred (e.g. step-parent's) surname
    use_pref = (preferred_surname != "") & (rng.random(m) < 0.5)
    surname[use_pref] = preferred_surname[use_pref]
    hyph = np.flatnonzero(np.char.find(surname.astype(str), "-") > 0)
    for i in hyph[rng.random(len(hyph)) < rates.hyphen_part]:
        parts = surname[i].split("-")
        surname[i] = parts[int(rng.integers(0, len(parts)))]
    for i in np.flatnonzero(rng.random(m) < rates.transliteration):
        forename[i] = spelling_variant(forename[i], rng)
        surname[i] = spelling_variant(surname[i], rng)
    for i in np.flatnonzero(rng.random(m) < rates.nickname):
        forename[i] = nickname(forename[i], middle[i], rng)
    for i in np.flatnonzero(rng.random(m) < rates.typo):
        if rng.random() < 0.5:
            forename[i] = typo(forename[i], rng)
        else:
            surname[i] = typo(surname[i], rng)
    swap = rng.random(m) < rates.name_swap
    forename[swap], surname[swap] = surname[swap], forename[swap].copy()

    for i in np.flatnonzero(rng.random(m) < rates.dob_day_month_swap):
        dob[i] = dob_day_month_swap(dob[i])
    for i in np.flatnonzero(rng.random(m) < rates.dob_digit_slip):
        dob[i] = dob_digit_slip(dob[i], rng)
    dob[rng.random(m) < rates.dob_blank] = np.datetime64("NaT")
    blank_names = rng.random(m) < rates.names_blank
    forename[blank_names] = ""
    surname[blank_names] = ""
    return {"upn": upn, "forename": forename, "surname": surname, "dob": dob}
