import pandas as pd
import pytest

from exclusion_risk.upn import CHECK_ALPHABET, check_letter, is_valid_upn, make_upn, valid_upn_mask


def test_made_upns_validate_and_every_single_digit_slip_is_caught():
    upn = make_upn(335, 2104, 2012, 17)
    assert len(upn) == 13 and upn[1:] == "335210412017"
    assert is_valid_upn(upn)
    caught = 0
    for pos in range(1, 13):
        for d in "0123456789":
            if d == upn[pos]:
                continue
            mutated = upn[:pos] + d + upn[pos + 1 :]
            caught += not is_valid_upn(mutated)
    assert caught == 12 * 9  # weights 2..13 are all non-zero mod 23, so any one-digit change is caught


def test_check_letter_by_hand():
    body = "801200111001"
    total = sum(int(c) * w for w, c in zip(range(2, 14), body, strict=True))
    assert check_letter(body) == CHECK_ALPHABET[total % 23]


def test_temporary_upn_with_final_letter():
    body = "33521041201A"
    upn = check_letter(body) + body
    assert is_valid_upn(upn)
    assert not is_valid_upn(upn[0] + body[:-1] + "B")


@pytest.mark.parametrize("bad", [None, "", "A12", "I335210412017", "1335210412017", 42])
def test_malformed(bad):
    assert not is_valid_upn(bad)


def test_vectorised_matches_scalar():
    upns = [make_upn(335, 2000 + i, 2010, i) for i in range(50)]
    upns += [u[:5] + str((int(u[5]) + 1) % 10) + u[6:] for u in upns[:10]] + [None, "", "junk"]
    s = pd.Series(upns, dtype="object")
    assert valid_upn_mask(s).tolist() == [is_valid_upn(u) for u in upns]
