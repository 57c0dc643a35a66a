"""Pure checks for what people type. Services call these and raise ValidationFailed with the result."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from decimal import Decimal

_SPACE = re.compile(r"\s+")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# Invisible characters that reorder or hide text (Trojan Source): bidi embeddings, overrides and
# isolates, and the marks that only steer them. They are format characters (category Cf) like the
# emoji joiners we keep, so they are named here rather than found by category.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Format characters that emoji and scripts need: ZERO WIDTH NON-JOINER (Persian, Hindi) and
# ZERO WIDTH JOINER (family, profession and rainbow-flag emoji). Variation selectors and skin-tone
# modifiers are not category C, so they are kept anyway.
KEPT_FORMAT = frozenset("\u200c\u200d")
# The flags of England, Scotland and Wales: BLACK FLAG, tag letters, CANCEL TAG. Tag characters
# anywhere else are invisible text smuggled past the reader, so they are removed.
_EMOJI_TAG_SEQUENCE = re.compile("\U0001f3f4[\U000e0020-\U000e007e]+\U000e007f")


def _allowed(ch: str) -> bool:
    category = unicodedata.category(ch)
    if category[0] != "C":
        return True
    if category == "Cf":
        return ch in KEPT_FORMAT  # never a bidi control, never a stray tag character
    if category == "Cc":
        return ch in "\n\t"  # NUL and the other C0/C1 controls go; the caller folds these two
    if category == "Cn":
        # Unassigned in this Python's Unicode database: most likely an emoji newer than it.
        # Noncharacters (U+FDD0-U+FDEF, U+xFFFE, U+xFFFF) are never text, so they go.
        code = ord(ch)
        return not (0xFDD0 <= code <= 0xFDEF or code & 0xFFFE == 0xFFFE)
    return category == "Co"  # private use (a font's icons) is harmless; lone surrogates (Cs) go


def clean_characters(value: str) -> str:
    """`value` without control, bidi and stray tag characters (white space untouched, no NFC)."""
    out: list[str] = []
    start = 0
    for match in _EMOJI_TAG_SEQUENCE.finditer(value):
        out.extend(ch for ch in value[start : match.start()] if _allowed(ch))
        out.append(match.group())
        start = match.end()
    out.extend(ch for ch in value[start:] if _allowed(ch))
    return "".join(out)


def normalise_text(value: object) -> str:
    """Trim, fold runs of white space (incl. newlines) into one space, normalise Unicode (NFC).

    Removes control characters (NUL included), bidi controls and stray tag characters; keeps emoji
    whole (joiners, variation selectors, skin tones, the flags of the UK's nations). Cleaning comes
    before NFC so that removing a character cannot leave text that NFC would change again.
    """
    if value is None:
        return ""
    text = unicodedata.normalize("NFC", clean_characters(str(value)))
    return _SPACE.sub(" ", text).strip()


def normalise_paragraphs(value: object) -> str:
    """Like normalise_text but keeps single line breaks between paragraphs."""
    if value is None:
        return ""
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    lines = [normalise_text(line) for line in text.split("\n")]
    out = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", out).strip()


def check_text(
    errors: dict[str, str],
    field: str,
    value: str,
    *,
    label: str,
    required: bool = True,
    max_length: int,
    min_length: int = 0,
) -> str:
    """Record an error for `field` if `value` is empty or too long; return the value."""
    if not value:
        if required:
            errors[field] = f"Enter {label}"
        return value
    if len(value) > max_length:
        errors[field] = (
            f"{_capital(label)} must be {max_length:,} characters or fewer "
            f"(you have {len(value):,})"
        )
    elif len(value) < min_length:
        errors[field] = f"{_capital(label)} must be at least {min_length} characters"
    return value


# Numbers people type. int(), float() and Decimal() accept far more than a form should: Arabic-Indic
# and other Unicode digits ("٣"), underscores ("1_000"), "nan", "inf", "1e999", and strings of
# thousands of digits (int() then raises ValueError, and a big enough value overflows a database
# integer: a 500 on PostgreSQL). These parsers take ASCII digits only, with a bounded length.
MAX_ID = 999_999_999  # ids and numbers in paths: 9 digits stay below PostgreSQL's 2,147,483,647
MAX_DIGITS = 15  # anything a form counts fits well inside a 64-bit integer and a float's precision
_WHOLE = re.compile(r"[+-]?([0-9]+)")
_DECIMAL = re.compile(r"[+-]?([0-9]+)(?:\.([0-9]+))?")


def parse_whole(raw: object, *, max_digits: int = MAX_DIGITS) -> int | None:
    """'12', '+3', '-4' -> int; None for anything else ('٣', '²', '1_000', '3.0', too many digits)."""
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    match = _WHOLE.fullmatch(text)
    if match is None or len(match.group(1).lstrip("0")) > max_digits:
        return None
    return int(text)


def parse_id(raw: object) -> int | None:
    """A database id as a form or query sends it: 1 to 9 ASCII digits, no sign; None otherwise."""
    if not isinstance(raw, str) or not 1 <= len(raw) <= 9 or not raw.isascii() or not raw.isdecimal():
        return None
    value = int(raw)
    return value if value >= 1 else None


def parse_decimal(raw: object, *, max_digits: int = MAX_DIGITS, max_places: int = 6) -> Decimal | None:
    """'12', '-0.5', '12.25' -> Decimal; None for anything else (no exponents, nan, inf or Unicode digits)."""
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    match = _DECIMAL.fullmatch(text)
    if match is None:
        return None
    whole, places = match.group(1).lstrip("0"), match.group(2) or ""
    if len(whole) > max_digits or len(places) > max_places:
        return None
    return Decimal(text)


def check_int(
    errors: dict[str, str],
    field: str,
    raw: str,
    *,
    label: str,
    required: bool = False,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int | None:
    """A whole number from a form field, or None with an error recorded under `field`."""
    raw = normalise_text(raw)
    if not raw:
        if required:
            errors[field] = f"Enter {label}"
        return None
    if _WHOLE.fullmatch(raw) is None:
        errors[field] = f"{_capital(label)} must be a whole number, like 3"
        return None
    value = parse_whole(raw)
    if value is None or (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        errors[field] = f"{_capital(label)} must be {_range(minimum, maximum)}"
        return None
    return value


def _range(minimum: int | None, maximum: int | None) -> str:
    if minimum is not None and maximum is not None:
        return f"between {minimum} and {maximum}"
    if minimum is not None:
        return f"{minimum} or more"
    if maximum is not None:
        return f"{maximum} or less"
    return f"a whole number of at most {MAX_DIGITS} digits"


def _capital(label: str) -> str:
    return label[0].upper() + label[1:] if label else label


def first_value(form: Mapping[str, object], field: str) -> str:
    value = form.get(field, "")
    return value if isinstance(value, str) else ""
