"""Unit tests for shared.validation, checked against the real GB/T 2260 table in stdnum."""

from __future__ import annotations

import pickle
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import ric

from shared.validation import (
    Grade,
    ValidationFailed,
    birth_date_of,
    check_character,
    county_name,
    is_current_place,
    is_known_place,
    make_resident_id,
    mask_phone,
    mask_resident_id,
    place_name,
    steps_apart,
    validate_amount_fen,
    validate_county_code,
    validate_phone,
    validate_resident_id,
)
from shared.validation.places import _table

TODAY = date(2025, 6, 1)
PINGYI = "371326"
LAIWU_LAICHENG = "371202"  # 莱城区, abolished when 莱芜市 was merged into 济南市 (2019)
CHONGWEN = "110103"  # 崇文区, merged into 东城区 in 2010


def code_of(call, *args, **kwargs) -> str:
    """The ValidationFailed code ``call`` raises."""
    with pytest.raises(ValidationFailed) as caught:
        call(*args, **kwargs)
    return caught.value.code


# --- errors -----------------------------------------------------------------


def test_validation_failed_is_a_value_error_with_code_and_message():
    err = ValidationFailed("phone.format", "bad phone")
    assert isinstance(err, ValueError)
    assert (err.code, err.message) == ("phone.format", "bad phone")
    assert "bad phone" in str(err) and "phone.format" in str(err)
    copy = pickle.loads(pickle.dumps(err))
    assert (copy.code, copy.message) == ("phone.format", "bad phone")


# --- resident ID numbers ----------------------------------------------------


def test_check_character_matches_the_gb11643_example():
    assert check_character("11010519491231002") == "X"
    assert validate_resident_id("11010519491231002X", today=TODAY) == "11010519491231002X"


def test_lowercase_x_and_surrounding_spaces_are_normalised():
    assert validate_resident_id(" 11010519491231002x ", today=TODAY) == "11010519491231002X"


def test_pingyi_resident_born_before_the_code_existed_is_valid():
    number = make_resident_id(PINGYI, date(1990, 5, 1), 12)
    assert number == "371326199005010124"
    assert validate_resident_id(number, today=TODAY) == number
    # Why stdnum's own validate() is not used: 371326 only exists from 1994.
    assert not ric.is_valid(number)


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("11010519491231002", "resident_id.length"),
        ("11010519491231002XX", "resident_id.length"),
        ("", "resident_id.length"),
        ("1101051949123100X2", "resident_id.format"),
        ("11010519491231002Y", "resident_id.format"),
        ("１１010519491231002X", "resident_id.format"),  # full-width digits
        (110105194912310021, "resident_id.format"),
        ("110105194912310021", "resident_id.check_character"),
    ],
)
def test_malformed_numbers_are_rejected_with_their_code(value, code):
    assert code_of(validate_resident_id, value, today=TODAY) == code


def test_impossible_birth_date_is_rejected():
    first17 = "37132619900230012"  # 30 February
    number = first17 + check_character(first17)
    assert code_of(validate_resident_id, number, today=TODAY) == "resident_id.birth_date"
    assert code_of(birth_date_of, number) == "resident_id.birth_date"


def test_birth_date_before_1900_is_rejected():
    # The 1880 example printed in GB 11643 itself: correct check digit, too old for us.
    assert check_character("44052418800101001") == "4"
    assert code_of(validate_resident_id, "440524188001010014") == "resident_id.birth_date"
    ok = make_resident_id(PINGYI, date(1900, 1, 1), 1)
    assert validate_resident_id(ok, today=TODAY) == ok


def test_birth_date_in_the_future_is_rejected():
    tomorrow = make_resident_id(PINGYI, TODAY + timedelta(days=1), 1)
    assert code_of(validate_resident_id, tomorrow, today=TODAY) == "resident_id.birth_date"
    born_today = make_resident_id(PINGYI, TODAY, 1)
    assert validate_resident_id(born_today, today=TODAY) == born_today
    far_future = make_resident_id(PINGYI, date(2999, 1, 1), 1)
    assert code_of(validate_resident_id, far_future) == "resident_id.birth_date"


def test_unknown_address_code_is_rejected_but_abolished_one_is_accepted():
    unknown = make_resident_id("999999", date(1990, 1, 1), 1)
    assert code_of(validate_resident_id, unknown, today=TODAY) == "resident_id.address_code"
    old = make_resident_id(CHONGWEN, date(1970, 1, 1), 1)
    assert validate_resident_id(old, today=TODAY) == old


def test_birth_date_of():
    assert birth_date_of("371326199005010124") == date(1990, 5, 1)


def test_mask_resident_id():
    assert mask_resident_id("11010519491231002X") == "1101**********002X"
    assert mask_resident_id("1234567") == "*******"


def test_make_resident_id_rejects_bad_inputs():
    with pytest.raises(ValueError):
        make_resident_id("37132", date(1990, 1, 1), 1)
    with pytest.raises(ValueError):
        make_resident_id(PINGYI, date(1990, 1, 1), 1000)
    with pytest.raises(ValueError):
        make_resident_id(PINGYI, date(1990, 1, 1), -1)


known_codes = st.sampled_from(sorted(_table()))
births = st.dates(min_value=date(1900, 1, 1), max_value=TODAY)
sequences = st.integers(min_value=0, max_value=999)
valid_ids = st.builds(make_resident_id, known_codes, births, sequences)


@given(known_codes, births, sequences)
def test_every_made_id_validates(code, born, sequence):
    number = make_resident_id(code, born, sequence)
    assert validate_resident_id(number, today=TODAY) == number
    assert validate_resident_id(number.lower(), today=TODAY) == number
    assert birth_date_of(number) == born
    assert number[:6] == code and int(number[14:17]) == sequence
    assert ric.calc_check_digit(number) == number[17]  # independent implementation


@given(valid_ids, st.integers(min_value=0, max_value=16), st.integers(min_value=1, max_value=9))
def test_changing_any_single_digit_breaks_the_check_character(number, position, delta):
    digit = str((int(number[position]) + delta) % 10)
    changed = number[:position] + digit + number[position + 1 :]
    assert changed != number
    assert code_of(validate_resident_id, changed, today=TODAY) == "resident_id.check_character"


@given(valid_ids)
def test_mask_keeps_length_and_the_ends(number):
    masked = mask_resident_id(number)
    assert len(masked) == 18
    assert masked[:4] == number[:4] and masked[-4:] == number[-4:]
    assert masked[4:14] == "*" * 10


# --- phones -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "normalised"),
    [
        ("13812345678", "13812345678"),
        (" 138 1234 5678 ", "13812345678"),
        ("19912345678", "19912345678"),
        ("0539-1234567", "0539-1234567"),
        ("05391234567", "0539-1234567"),
        ("010-12345678", "010-12345678"),
        ("02112345678", "021-12345678"),
    ],
)
def test_valid_phones_are_normalised(value, normalised):
    assert validate_phone(value) == normalised


@pytest.mark.parametrize(
    "value",
    [
        "12812345678",
        "1381234567",
        "138123456789",
        "0539-123456",
        "539-1234567",
        "",
        None,
        13812345678,
    ],
)
def test_invalid_phones_are_rejected(value):
    assert code_of(validate_phone, value) == "phone.format"


def test_mask_phone():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("0539-1234567") == "0539-***4567"
    assert mask_phone("12345") == "*****"


# --- places -----------------------------------------------------------------


def test_place_names():
    assert county_name(PINGYI) == "平邑县"
    assert place_name(PINGYI) == "山东省临沂市平邑县"
    assert place_name("310115") == "上海市浦东新区"
    assert place_name("310112") == "上海市闵行区"
    assert county_name("371324") == "兰陵县"  # renamed from 苍山县 in 2014: latest name wins
    assert place_name(LAIWU_LAICHENG) == "山东省莱芜市莱城区"
    assert place_name("999999") is None and county_name("999999") is None
    assert place_name("3713") is None


def test_known_and_current_places():
    assert is_known_place(PINGYI) and is_current_place(PINGYI)
    for abolished in (LAIWU_LAICHENG, CHONGWEN):
        assert is_known_place(abolished)
        assert not is_current_place(abolished)
    assert not is_known_place("999999") and not is_current_place("999999")
    assert not is_known_place(371326)


def test_validate_county_code():
    assert validate_county_code(PINGYI) == PINGYI
    assert validate_county_code("310115") == "310115"
    assert code_of(validate_county_code, "37132") == "place.format"
    assert code_of(validate_county_code, "37132a") == "place.format"
    assert code_of(validate_county_code, 371326) == "place.format"
    assert code_of(validate_county_code, "371300") == "place.not_county"
    assert code_of(validate_county_code, "370101") == "place.not_county"  # 市辖区
    assert code_of(validate_county_code, "371399") == "place.unknown"
    assert code_of(validate_county_code, LAIWU_LAICHENG) == "place.abolished"
    assert code_of(validate_county_code, CHONGWEN) == "place.abolished"


def test_table_is_parsed_once_and_is_large():
    assert _table() is _table()
    assert len(_table()) > 6000


# --- grades -----------------------------------------------------------------


def test_grades():
    assert [g.value for g in Grade] == [
        "excellent",
        "competent",
        "basically_competent",
        "not_competent",
    ]
    assert [g.label_zh for g in Grade] == ["优秀", "合格", "基本合格", "不合格"]
    assert [g.rank for g in Grade] == [0, 1, 2, 3]
    assert Grade("basically_competent") is Grade.BASICALLY_COMPETENT
    assert Grade.from_label_zh("不合格") is Grade.NOT_COMPETENT
    with pytest.raises(ValueError):
        Grade.from_label_zh("良好")


def test_steps_apart():
    assert steps_apart(Grade.EXCELLENT, Grade.NOT_COMPETENT) == 3
    assert steps_apart(Grade.NOT_COMPETENT, Grade.EXCELLENT) == 3
    assert steps_apart("competent", Grade.BASICALLY_COMPETENT) == 1
    assert steps_apart(Grade.COMPETENT, Grade.COMPETENT) == 0
    with pytest.raises(ValueError):
        steps_apart("good", Grade.COMPETENT)


# --- money ------------------------------------------------------------------


def test_validate_amount_fen():
    assert validate_amount_fen(1) == 1
    assert validate_amount_fen(12_345) == 12_345
    assert code_of(validate_amount_fen, 0) == "amount.not_positive"
    assert code_of(validate_amount_fen, -100) == "amount.not_positive"
    for bad in (True, 1.0, "100", Decimal("100"), None):
        assert code_of(validate_amount_fen, bad) == "amount.not_integer"
