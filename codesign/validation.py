"""Pure checks for what people type. Services call these and raise ValidationFailed with the result."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

_SPACE = re.compile(r"\s+")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalise_text(value: object) -> str:
    """Trim, fold runs of white space (incl. newlines) into one space, normalise Unicode (NFC)."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFC", str(value))
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    return _SPACE.sub(" ", text).strip()


def normalise_paragraphs(value: object) -> str:
    """Like normalise_text but keeps single line breaks between paragraphs."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFC", str(value)).replace("\r\n", "\n").replace("\r", "\n")
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
            f"{label[0].upper() + label[1:]} must be {max_length:,} characters or fewer "
            f"(you have {len(value):,})"
        )
    elif len(value) < min_length:
        errors[field] = f"{label[0].upper() + label[1:]} must be at least {min_length} characters"
    return value


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
    raw = normalise_text(raw)
    if not raw:
        if required:
            errors[field] = f"Enter {label}"
        return None
    try:
        value = int(raw)
    except ValueError:
        errors[field] = f"{label[0].upper() + label[1:]} must be a whole number, like 3"
        return None
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        errors[field] = f"{label[0].upper() + label[1:]} must be between {minimum} and {maximum}"
        return None
    return value


def first_value(form: Mapping[str, object], field: str) -> str:
    value = form.get(field, "")
    return value if isinstance(value, str) else ""
