"""A patient key opens to its CPR number under the deployment's secrets, and nothing else opens (ADR 0022).

The families: every valid CPR number seals to one 35-character key, the same every time, that opens
to it again; no key shows the number; a key altered anywhere, cut, lengthened, or sealed under another
secret does not open (an earlier secret's still does, for rotation); and whatever a router or caller
sends as a representation is read as a patient only when it is exactly ``{__typename: "Patient", id:
<key>}`` — anything else is a :class:`BadRepresentation`, never an exception.
"""

from __future__ import annotations

import string
from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sources.identifiers import is_cpr
from sources.patient_keys import (
    KEY_LENGTH,
    SECRET_BYTES,
    BadRepresentation,
    InvalidPatientKey,
    PatientKeys,
    patient_of,
)

SECRET = bytes(range(SECRET_BYTES))
KEYS = PatientKeys(SECRET)
KEY_ALPHABET = string.ascii_letters + string.digits + "-_"


@st.composite
def cprs(draw: st.DrawFn) -> str:
    """Valid CPR numbers: a real date and a serial whose seventh digit fits its century (no modulus 11)."""
    born = draw(st.dates(min_value=date(1900, 1, 1), max_value=date(1999, 12, 31)))
    cpr = f"{born:%d%m%y}{draw(st.integers(0, 3))}{draw(st.integers(0, 999)):03d}"
    assert is_cpr(cpr)
    return cpr


@given(cprs())
def test_every_cpr_number_seals_to_one_key_that_opens_to_it_and_shows_nothing_of_it(cpr: str) -> None:
    key = KEYS.key_of(cpr)

    assert key == KEYS.key_of(cpr) == PatientKeys(SECRET).key_of(cpr)
    assert len(key) == KEY_LENGTH and set(key) <= set(KEY_ALPHABET)
    assert KEYS.cpr_of(key) == cpr
    assert cpr not in key and cpr[:6] not in key


@given(cprs(), cprs())
def test_two_patients_never_share_a_key(one: str, other: str) -> None:
    assert (KEYS.key_of(one) == KEYS.key_of(other)) == (one == other)


@given(cprs(), st.integers(0, KEY_LENGTH - 1), st.sampled_from(KEY_ALPHABET))
def test_a_key_altered_in_any_place_does_not_open(cpr: str, place: int, character: str) -> None:
    key = KEYS.key_of(cpr)
    altered = key[:place] + character + key[place + 1 :]

    if altered == key:
        assert KEYS.cpr_of(altered) == cpr
    else:
        with pytest.raises(InvalidPatientKey):
            KEYS.cpr_of(altered)


@given(cprs(), st.text(max_size=80))
def test_a_key_cut_lengthened_or_made_up_does_not_open(cpr: str, text: str) -> None:
    key = KEYS.key_of(cpr)
    for sent in (key[:-1], key + "A", key + "=", text, cpr, key.upper() if key.upper() != key else key.lower()):
        if sent != key:
            with pytest.raises(InvalidPatientKey):
                KEYS.cpr_of(sent)


@given(cprs())
def test_another_secrets_key_does_not_open_and_an_earlier_secrets_key_still_does(cpr: str) -> None:
    earlier = PatientKeys(bytes(SECRET_BYTES))
    rotated = PatientKeys(SECRET, previous=[bytes(SECRET_BYTES)])

    with pytest.raises(InvalidPatientKey):
        KEYS.cpr_of(earlier.key_of(cpr))
    assert rotated.cpr_of(earlier.key_of(cpr)) == cpr
    assert rotated.key_of(cpr) == KEYS.key_of(cpr)


def test_secrets_of_another_length_and_numbers_that_are_not_cpr_numbers_are_refused() -> None:
    for length in (0, 32, SECRET_BYTES - 1, SECRET_BYTES + 1):
        with pytest.raises(ValueError, match="bytes"):
            PatientKeys(bytes(length))
    with pytest.raises(ValueError, match="bytes"):
        PatientKeys(SECRET, previous=[bytes(16)])
    for value in ("3213723705", "140372370", "1403723705 ", "14037237O5"):
        with pytest.raises(ValueError, match="CPR"):
            KEYS.key_of(value)


def test_random_secrets_differ() -> None:
    assert PatientKeys.generate().key_of("1403723705") != PatientKeys.generate().key_of("1403723705")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)


@given(json_values)
def test_whatever_is_sent_as_a_representation_is_read_without_raising(value: Any) -> None:
    assert isinstance(patient_of(value, KEYS), BadRepresentation)


@given(cprs(), st.dictionaries(st.sampled_from(["__typename", "id", "cpr", "override", "x"]), json_values))
def test_only_exactly_a_patient_and_its_key_is_a_patient(cpr: str, extra: dict[str, Any]) -> None:
    representation = {"__typename": "Patient", "id": KEYS.key_of(cpr), **extra}
    exact = representation == {"__typename": "Patient", "id": KEYS.key_of(cpr)}

    found = patient_of(representation, KEYS)

    assert (found == cpr) == exact
    if not exact:
        assert isinstance(found, BadRepresentation) and cpr not in found.message


@pytest.mark.parametrize(
    ("representation", "part", "forged"),
    [
        (None, "", False),
        ([{"__typename": "Patient"}], "", False),
        ({"__typename": "Patient"}, "", False),
        ({"__typename": "Person", "id": KEYS.key_of("1403723705")}, ".__typename", False),
        ({"__typename": "Patient", "id": 1403723705}, ".id", False),
        ({"__typename": "Patient", "id": "1403723705"}, ".id", True),
        ({"__typename": "Patient", "id": PatientKeys.generate().key_of("1403723705")}, ".id", True),
    ],
)
def test_a_bad_representation_names_the_part_that_is_wrong(representation: object, part: str, forged: bool) -> None:
    found = patient_of(representation, KEYS)

    assert isinstance(found, BadRepresentation)
    assert (found.part, found.forged) == (part, forged)
