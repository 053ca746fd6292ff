import math

import pytest

from portal.domain import tracking


def test_code_has_at_least_60_bits_and_no_confusable_symbols():
    bits = tracking.CODE_LENGTH * math.log2(len(tracking.ALPHABET))
    assert bits >= 60
    assert not set("0O1IL") & set(tracking.ALPHABET)
    code = tracking.generate_tracking_code()
    groups = code.split("-")
    assert [len(g) for g in groups] == [5, 5, 5]
    assert set(code.replace("-", "")) <= set(tracking.ALPHABET)


def test_codes_do_not_repeat():
    codes = {tracking.generate_tracking_code() for _ in range(5000)}
    assert len(codes) == 5000


@pytest.mark.parametrize("typed", [
    "abcde-fgh23-45678", "ABCDE FGH23 45678", " abcdefgh2345678 ", "ABCDE.FGH23.45678",
])
def test_normalise_accepts_what_people_type(typed):
    assert tracking.normalise_tracking_code(typed) == "ABCDEFGH2345678"


@pytest.mark.parametrize("typed", [
    "", "ABCDE-FGH23-4567", "ABCDE-FGH23-456789", "ABCDE-FGH23-4567O", "ABCDE-FGH23-45671",
    "A" * 65, "<script>", "ABCDE-FGH23-4567Ü",
])
def test_normalise_rejects_what_cannot_be_a_code(typed):
    assert tracking.normalise_tracking_code(typed) is None


def test_hash_is_the_same_however_the_code_is_typed():
    assert tracking.hash_tracking_code("abcde fgh23 45678") == tracking.hash_tracking_code(
        "ABCDE-FGH23-45678")
    assert tracking.hash_tracking_code("ABCDE-FGH23-45678") != tracking.hash_tracking_code(
        "ABCDE-FGH23-45679")
