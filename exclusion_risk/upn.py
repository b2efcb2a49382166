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
import pyarrow as pa
import pyarrow.compute as pc

from exclusion_risk.privacy import UPN_PATTERN

CHECK_ALPHABET = "ABCDEFGHJKLMNPQRTUVWXYZ"  # 23 letters: no I, O or S
_LETTER_VALUE = {ch: i for i, ch in enumerate(CHECK_ALPHABET)}
# Byte lookups for the vectorised check: letter byte -> value, value -> check-letter byte.
_BYTE_VALUE = np.zeros(256, dtype=np.int32)
_BYTE_VALUE[[ord(ch) for ch in CHECK_ALPHABET]] = np.arange(len(CHECK_ALPHABET))
_ALPHABET_BYTES = np.frombuffer(CHECK_ALPHABET.encode("ascii"), dtype=np.uint8)
_UPN_SHAPE = re.compile(r"^[A-HJ-NP-RT-Z]\d{11}[0-9A-HJ-NP-RT-Z]$")
# Characters a UPN never holds, which MIS exports and hand-keyed sheets write inside one (`E330 205709725`,
# `E330-205709725`): every character Python reads as whitespace (the no-break spaces included), every
# dash (Unicode's Pd: hyphen-minus, hyphen, non-breaking hyphen, en and em dash...), the minus sign, and
# the invisible format characters a copy from a web page or a document carries (soft hyphen, zero-width
# spaces and joiners, word joiner, byte-order mark). upn_key removes them wherever they are.
UPN_SEPARATORS = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
    "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"  # whitespace (str.isspace)
    "-\u058a\u05be\u1400\u1806\u2010\u2011\u2012\u2013\u2014\u2015\u2e17\u2e1a\u2e3a\u2e3b\u2e40"
    "\u2e5d\u301c\u3030\u30a0\ufe31\ufe32\ufe58\ufe63\uff0d\U00010ead"  # dashes (Pd)
    "\u2212\u00ad\u180e\u200b\u200c\u200d\u2060\ufeff"  # minus sign; invisible format characters
)
_SEPARATOR_RUNS = re.compile(f"[{re.escape(UPN_SEPARATORS)}]+")
_ARROW_SEPARATORS = "[" + "".join(f"\\x{{{ord(ch):x}}}" for ch in UPN_SEPARATORS) + "]+"  # RE2's spelling
_ASCII_WHITESPACE = "".join(ch for ch in UPN_SEPARATORS if ch.isascii() and ch.isspace())  # str.strip's


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


def _allocation(la_number: int, establishment: int, year: int) -> str:
    """The first 9 characters after the check letter: who allocated the UPN, and in which year."""
    return f"{la_number:03d}{establishment:04d}{year % 100:02d}"


def make_upn(la_number: int, establishment: int, year: int, serial: int) -> str:
    """A permanent UPN with a valid check letter (as a school MIS allocates them)."""
    body = f"{_allocation(la_number, establishment, year)}{serial:03d}"
    return check_letter(body) + body


def make_temporary_upn(la_number: int, establishment: int, year: int, serial: int, letter: str) -> str:
    """A temporary UPN (2-digit serial, then a letter) with a valid check letter."""
    body = f"{_allocation(la_number, establishment, year)}{serial:02d}{letter}"
    return check_letter(body) + body


def upn_key(upn: str) -> str:
    """A UPN's tidy form, the one rule for every UPN the project reads or looks up (the readers, linkage's
    keys, the features, the service's uploads and lookups): every separator (UPN_SEPARATORS) removed,
    wherever it is, and upper case. A value of separators alone is not a UPN written with them: it is
    left stripped and upper-cased, as it was read before, so a placeholder such as `-` is still reported.
    Tidy whether or not the result is a valid UPN: one that still fails the shape or the check letter
    stays invalid (kept and reported). `tidy_upn_array` is this rule over arrow text."""
    tidied = _SEPARATOR_RUNS.sub("", upn).upper()
    return tidied or upn.strip().upper()


def tidy_upn_array(text: pa.Array) -> pa.Array:
    """`upn_key` of each value of arrow text (nulls kept), as the same type; `text` itself when every
    value is already tidy (capitals and digits alone: a clean census's UPNs cost one regex pass).

    Only the values that need it are tidied, by arrow's kernels where they are ASCII (where arrow's
    ASCII kernels and Python agree); text beyond ASCII, which is rare, goes through upn_key in Python
    (Python's upper case is not arrow's: "ß" is "SS" to Python)."""
    rest = pc.invert(pc.fill_null(pc.match_substring_regex(text, r"^[A-Z0-9]*$"), True))
    if not pc.any(rest).as_py():
        return text
    needing = text.filter(rest)  # no nulls: a null is never among the rest
    tidied = pc.ascii_upper(pc.replace_substring_regex(needing, _ARROW_SEPARATORS, ""))
    alone = pc.ascii_upper(pc.ascii_trim(needing, _ASCII_WHITESPACE))  # separators alone: as it was read
    tidied = pc.if_else(pc.equal(tidied, ""), alone, tidied)
    beyond_ascii = pc.invert(pc.string_is_ascii(needing))
    if pc.any(beyond_ascii).as_py():
        by_python = [upn_key(v) for v in needing.filter(beyond_ascii).to_pylist()]
        tidied = pc.replace_with_mask(tidied, beyond_ascii, pa.array(by_python, type=text.type))
    return pc.replace_with_mask(text, rest, tidied)


def written_as_upn(tidy: str) -> bool:
    """Whether a tidy value (upn_key) is written as a UPN is (a letter, 11 digits, a digit or letter:
    privacy.UPN_PATTERN, the shape the logs are kept clear of), its check letter right or not: a UPN with
    a typing slip is still a pupil's UPN, kept and named by its tidy form (the data contract), where a
    value of another shape (an LA's pseudonym) is no UPN."""
    return UPN_PATTERN.fullmatch(tidy) is not None


def is_valid_upn(upn: object) -> bool:
    """True when `upn`, tidied (upn_key), has the UPN shape and its check letter is right."""
    if not isinstance(upn, str):
        return False
    upn = upn_key(upn)
    if not _UPN_SHAPE.match(upn):
        return False
    return check_letter(upn[1:]) == upn[0]


def _upn_bytes(arr: pa.Array) -> np.ndarray:
    """(n, 13) uint8 array of well-shaped (13 ASCII character) UPNs, read from the arrow buffers."""
    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    offset_type = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    offsets = np.frombuffer(arr.buffers()[1], dtype=offset_type)
    start = offsets[arr.offset]
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[start : start + 13 * len(arr)]
    return data.reshape(-1, 13)


def valid_upn_mask(upns: pd.Series) -> pd.Series:
    """Vectorised `is_valid_upn` over a column (missing values are invalid), each UPN tidied (upn_key).

    Works on the bytes of the well-shaped UPNs as one (n, 13) array straight from the arrow
    buffers: a million UPNs take a fraction of a second, a Python loop over characters ten seconds.
    """
    text = upns.astype(pd.StringDtype("pyarrow")).array.__arrow_array__()
    text = tidy_upn_array(text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text)
    # ASCII classes (not \d) so the bytes below are exactly 13 per UPN.
    shape = r"^[A-HJ-NP-RT-Z][0-9]{11}[0-9A-HJ-NP-RT-Z]$"
    shape_ok = pc.fill_null(pc.match_substring_regex(text, shape), False)
    out = np.zeros(len(text), dtype=bool)
    mask = shape_ok.to_numpy(zero_copy_only=False)
    if mask.any():
        chars = _upn_bytes(text.filter(shape_ok))
        total = (chars[:, 1:12] - ord("0")).astype(np.int32) @ np.arange(2, 13, dtype=np.int32)
        last = chars[:, 12]
        last_value = np.where(last <= ord("9"), last.astype(np.int32) - ord("0"), _BYTE_VALUE[last])
        out[mask] = _ALPHABET_BYTES[(total + last_value * 13) % 23] == chars[:, 0]
    return pd.Series(out, index=upns.index)
