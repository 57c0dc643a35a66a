"""What people type: text cleaning keeps emoji whole and drops what hides or breaks text; numbers
are ASCII digits of bounded length, whatever int() or float() would accept."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codesign.validation import (
    BIDI_CONTROLS,
    MAX_DIGITS,
    check_int,
    normalise_paragraphs,
    normalise_text,
    parse_decimal,
    parse_id,
    parse_whole,
)

WALES = "\U0001f3f4\U000e0067\U000e0062\U000e0077\U000e006c\U000e0073\U000e007f"
SCOTLAND = "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"
FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
WAVE_MEDIUM = "\U0001f44b\U0001f3fd"
RAINBOW_FLAG = "\U0001f3f3\ufe0f\u200d\U0001f308"
NURSE_DARK = "\U0001f9d1\U0001f3ff\u200d\u2695\ufe0f"
KEYCAP_ONE = "1\ufe0f\u20e3"
HEART = "\u2764\ufe0f"
TAG_CHARS = re.compile("[\U000e0000-\U000e007f]")
TAG_SEQUENCE = re.compile("\U0001f3f4[\U000e0020-\U000e007e]+\U000e007f")


@pytest.mark.parametrize("emoji", [WALES, SCOTLAND, FAMILY, WAVE_MEDIUM, RAINBOW_FLAG, NURSE_DARK, KEYCAP_ONE, HEART])
def test_emoji_sequences_are_kept_whole(emoji: str) -> None:
    assert normalise_text(f"  Proud of my care {emoji} team ") == f"Proud of my care {emoji} team"
    assert normalise_text(emoji) == emoji


@pytest.mark.parametrize(("raw", "clean"), [
    ("Safe\u202e evil", "Safe evil"),  # RIGHT-TO-LEFT OVERRIDE
    ("a\u202ab\u202cc", "abc"),  # embedding and its pop
    ("\u2066isolate\u2069d", "isolated"),
    ("left\u200e mark\u200f and\u061c arabic", "left mark and arabic"),
    ("nul\x00byte", "nulbyte"),
    ("bell\x07 and escape\x1b[31m", "bell and escape[31m"),
    ("C1\x85next\x9bline", "C1nextline"),
    ("hidden\U000e0068\U000e0069 tags", "hidden tags"),  # tag characters outside a flag
    ("\U0001f3f4\U000e0067\U000e0062 unfinished flag", "\U0001f3f4 unfinished flag"),  # no CANCEL TAG
    ("\U000e007f cancel alone", "cancel alone"),
    ("lone \ud800 surrogate", "lone surrogate"),
    ("zero\u200bwidth\ufeffspaces", "zerowidthspaces"),
    ("tabs\tand\nnew\r\nlines", "tabs and new lines"),
    ("e\u200e\u0301", "\u00e9"),  # removing the mark lets NFC compose, in one pass
    ("Persian \u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645", "Persian \u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"),
])
def test_controls_bidi_and_stray_tags_are_removed(raw: str, clean: str) -> None:
    assert normalise_text(raw) == clean


def test_paragraphs_keep_line_breaks_and_emoji() -> None:
    assert normalise_paragraphs(f"One {WALES}\r\n\r\n\r\n\u202eTwo\x00\n  three  ") == f"One {WALES}\n\nTwo\nthree"


# Characters that make text go wrong, mixed into arbitrary text so Hypothesis tries them together.
AWKWARD = ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\x9b", "\u202e", "\u202a", "\u2066", "\u2069", "\u200e", "\u061c",
           "\u200d", "\u200c", "\u200b", "\ufeff", "\ufe0f", "\U0001f3fd", "\U0001f3f4", "\U000e0067", "\U000e0062",
           "\U000e007f", "\U000e0001", "\ud800", "\udfff", "\ufffe", "\U0010ffff", "\u0301", "e", " ", "\n", "\t",
           "\r", "\u2028", WALES, FAMILY]
awkward_text = st.lists(st.one_of(st.sampled_from(AWKWARD), st.characters()), max_size=40).map("".join)


def _forbidden(ch: str) -> bool:
    category = unicodedata.category(ch)
    return (category in ("Cc", "Cs") or ch in BIDI_CONTROLS
            or (category == "Cf" and ch not in "\u200c\u200d" and not TAG_CHARS.match(ch)))


@settings(max_examples=300, deadline=None)
@given(awkward_text)
def test_normalised_text_is_clean_and_stable(raw: str) -> None:
    text = normalise_text(raw)
    assert not any(_forbidden(ch) for ch in text)
    # Tag characters survive only inside a flag's tag sequence.
    assert not TAG_CHARS.search(TAG_SEQUENCE.sub("", text))
    assert text == text.strip() and "  " not in text and "\n" not in text
    assert unicodedata.is_normalized("NFC", text)
    assert normalise_text(text) == text
    text.encode("utf-8")  # no lone surrogates: PostgreSQL can store it
    assert normalise_paragraphs(normalise_paragraphs(raw)) == normalise_paragraphs(raw)


harmless = st.lists(st.one_of(st.sampled_from([WALES, SCOTLAND, FAMILY, WAVE_MEDIUM, RAINBOW_FLAG, NURSE_DARK, " "]),
                              st.characters(categories=["L", "N", "P", "S"])), max_size=30).map("".join)


@settings(max_examples=200, deadline=None)
@given(harmless)
def test_ordinary_text_and_emoji_come_through_unchanged(raw: str) -> None:
    expected = " ".join(unicodedata.normalize("NFC", raw).split())
    assert normalise_text(raw) == expected


@pytest.mark.parametrize("raw", ["\u0663", "\u00b2", "1_000", "3.0", "1e3", "0x10", "12a", "", " ", "--1", "\uff11",
                                 "9" * (MAX_DIGITS + 1), "9" * 5000, "1 000", "nan", "\x00", "1\x00"])
def test_parse_whole_refuses_what_int_might_take(raw: str) -> None:
    assert parse_whole(raw) is None


@pytest.mark.parametrize(("raw", "value"), [("12", 12), (" +3 ", 3), ("-4", -4), ("007", 7), ("0" * 40 + "5", 5)])
def test_parse_whole_reads_plain_numbers(raw: str, value: int) -> None:
    assert parse_whole(raw) == value


@pytest.mark.parametrize("raw", ["0", "1234567890", "+5", "-5", " 5", "\u0665", "\u00b9", "", "1.0"])
def test_parse_id_is_one_to_nine_ascii_digits(raw: str) -> None:
    assert parse_id(raw) is None
    assert parse_id("999999999") == 999_999_999 and parse_id("42") == 42


@pytest.mark.parametrize("raw", ["nan", "inf", "-inf", "1e3", "1E-2", "\u0663.5", "1_0", ".5", "5.", "1,5",
                                 "9" * 5000, "0.1234567"])
def test_parse_decimal_refuses_exponents_specials_and_unicode(raw: str) -> None:
    assert parse_decimal(raw) is None


@pytest.mark.parametrize(("raw", "error"), [
    ("\u00b2", "must be a whole number, like 3"), ("\u0663", "must be a whole number, like 3"),
    ("1_000", "must be a whole number, like 3"), ("9" * 5000, "must be between 1 and 60"),
    ("61", "must be between 1 and 60"), ("0", "must be between 1 and 60"),
])
def test_check_int_names_the_field(raw: str, error: str) -> None:
    errors: dict[str, str] = {}
    assert check_int(errors, "table_number", raw, label="your table number", minimum=1, maximum=60) is None
    assert error in errors["table_number"]


def test_check_int_with_one_bound_says_so() -> None:
    errors: dict[str, str] = {}
    check_int(errors, "a", "-1", label="the budget", minimum=0)
    check_int(errors, "b", "9" * 20, label="the budget")
    assert errors == {"a": "The budget must be 0 or more",
                      "b": f"The budget must be a whole number of at most {MAX_DIGITS} digits"}


digits_and_junk = st.text(alphabet=st.sampled_from("0123456789+-._ e\u0663\u00b2\uff11\x00,"), max_size=25)


@settings(max_examples=300, deadline=None)
@given(st.one_of(digits_and_junk, st.text(max_size=25)), st.integers(-5, 5), st.integers(0, 10**6))
def test_check_int_either_returns_a_value_in_range_or_names_the_field(raw: str, low: int, span: int) -> None:
    errors: dict[str, str] = {}
    value = check_int(errors, "n", raw, label="the number", minimum=low, maximum=low + span)
    if value is None:
        assert normalise_text(raw) == "" or set(errors) == {"n"}
    else:
        assert errors == {} and low <= value <= low + span and str(value) == str(int(normalise_text(raw)))


@settings(max_examples=300, deadline=None)
@given(st.one_of(digits_and_junk, st.text(max_size=25)))
def test_number_parsers_never_raise_and_agree_with_ascii(raw: str) -> None:
    whole, decimal, ident = parse_whole(raw), parse_decimal(raw), parse_id(raw)
    if whole is not None:
        assert raw.strip().lstrip("+-").isascii() and abs(whole) < 10**MAX_DIGITS and decimal == whole
    if ident is not None:
        assert 1 <= ident <= 999_999_999 and whole == ident


@given(st.integers(-(10**MAX_DIGITS) + 1, 10**MAX_DIGITS - 1))
def test_every_number_in_range_reads_back(n: int) -> None:
    assert parse_whole(str(n)) == n and parse_decimal(str(n)) == n
