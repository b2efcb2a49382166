"""Unique Pupil Numbers: the DfE check-letter algorithm.

A UPN is 13 characters: a check letter, then 12 characters (3-digit LA number, 4-digit
establishment number, 2-digit year of allocation, 3-digit serial). A temporary UPN has a
letter in the last place. The check letter is sum(value(char_i) * i for i in 2..13) mod 23,
mapped onto the 23-letter alphabet that leaves out I, O and S.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

CHECK_ALPHABET = "ABCDEFGHJKLMNPQRTUVWXYZ"  # 23 letters: no I, O or S
_LETTER_VALUE = {ch: i for i, ch in enumerate(CHECK_ALPHABET)}
_UPN_SHAPE = re.compile(r"^[A-HJ-NP-RT-Z]\d{11}[0-9A-HJ-NP-RT-Z]$")


def check_letter(body: str) -> str:
    """Check letter for the 12 characters after it (digits, last may be a temporary letter)."""
    if len(body) != 12:
        raise ValueError("a UPN body is 12 characters")
    total = 0
    for weight, ch in enumerate(body, start=2):
        if ch.isdigit():
            value = int(ch)
        elif ch in _LETTER_VALUE and weight == 13:
            value = _LETTER_VALUE[ch]
        else:
            raise ValueError("a UPN body is 11 digits then a digit or letter")
        total += value * weight
    return CHECK_ALPHABET[total % 23]


def make_upn(la_number: int, establishment: int, year: int, serial: int) -> str:
    """A permanent UPN with a valid check letter (as a school MIS allocates them)."""
    body = f"{la_number:03d}{establishment:04d}{year % 100:02d}{serial:03d}"
    return check_letter(body) + body


def is_valid_upn(upn: object) -> bool:
    """True when `upn` has the UPN shape and its check letter is right."""
    if not isinstance(upn, str):
        return False
    upn = upn.strip().upper()
    if not _UPN_SHAPE.match(upn):
        return False
    return check_letter(upn[1:]) == upn[0]


def valid_upn_mask(upns: pd.Series) -> pd.Series:
    """Vectorised `is_valid_upn` over a column (missing values are invalid)."""
    s = upns.astype("string").str.strip().str.upper()
    shape_ok = s.str.match(_UPN_SHAPE.pattern).fillna(False).astype(bool)
    out = np.zeros(len(s), dtype=bool)
    idx = np.flatnonzero(shape_ok.to_numpy())
    if idx.size:
        chars = np.array([list(u) for u in s.to_numpy()[idx]])
        digits = chars[:, 1:12].astype(int)
        weights = np.arange(2, 13)
        total = (digits * weights).sum(axis=1)
        last = chars[:, 12]
        last_val = np.array([int(c) if c.isdigit() else _LETTER_VALUE[c] for c in last])
        total = total + last_val * 13
        expected = np.array(list(CHECK_ALPHABET))[total % 23]
        out[idx] = expected == chars[:, 0]
    return pd.Series(out, index=upns.index)
