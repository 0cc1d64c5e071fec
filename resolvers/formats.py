"""The forms a text argument or input field must have (``@constraint(format:)``), each with its normal form.

Each :class:`~resolvers.bounds.Format` says what it takes (its text goes into the descriptions and
into the refusal a client gets) and how a valid text is written normally: a Danish phone number as its
8 digits, a language tag in its usual letter case, free text trimmed. The gateway checks the form
before execution; resolvers only put the checked text in its normal form (:meth:`Format.normal`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from resolvers.bounds import Format
from resolvers.protection import PROTECTED_PLACEHOLDER
from sources.identifiers import normalise_authorization_id, normalise_sor

_DANISH_PHONE = re.compile(r"(?:\+45|0045)?([0-9]{8})")
_INTERNATIONAL_PHONE = re.compile(r"\+(?!45)[1-9][0-9]{6,14}")
_LANGUAGE = re.compile(r"([A-Za-z]{2,3})(?:-([A-Za-z]{4}))?(?:-([A-Za-z]{2}|[0-9]{3}))?")
_POSTAL_CODE = re.compile(r"[0-9]{4}")
_MUNICIPALITY_CODE = re.compile(r"[0-9]{3,4}")
_SOR_CODE = re.compile(r"[0-9]{11,18}")
_BLOCK_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_VERSION = re.compile(r"[0-9A-Za-z.\-]{1,64}")


def _phone(value: str) -> str | None:
    compact = value.replace(" ", "")
    if danish := _DANISH_PHONE.fullmatch(compact):
        return danish.group(1)
    return compact if _INTERNATIONAL_PHONE.fullmatch(compact) else None


def _language(value: str) -> str | None:
    match = _LANGUAGE.fullmatch(value.strip())
    if match is None:
        return None
    language, script, region = match.groups()
    parts = (language.lower(), script.title() if script else None, region.upper() if region else None)
    return "-".join(part for part in parts if part)


def _line(value: str) -> str | None:
    return value.strip() if _line_problem(value) is None else None


def _line_problem(value: str) -> str | None:
    trimmed = value.strip()
    if not trimmed:
        return "must not be blank"
    if any(unicodedata.category(c) == "Cc" for c in trimmed):
        return "must be one line without control characters"
    if trimmed.casefold() == PROTECTED_PLACEHOLDER.casefold():
        return "is the placeholder name and address protection shows, not a value"
    return None


def _trimmed(pattern: re.Pattern[str]) -> Callable[[str], str | None]:
    """The text trimmed, when it then matches ``pattern``."""

    def normalise(value: str) -> str | None:
        trimmed = value.strip()
        return trimmed if pattern.fullmatch(trimmed) else None

    return normalise


PHONE = Format(
    "phone",
    "a phone number: 8 digits, optionally after +45 or 0045, spaces allowed (kept as the 8 digits); or a foreign "
    "number as + and digits",
    _phone,
)
LANGUAGE_TAG = Format("bcp47", "a BCP 47 language tag such as da, en, de or en-GB", _language)
LINE = Format(
    "line",
    f"one line of text without control characters, and not {PROTECTED_PLACEHOLDER} (the placeholder name and "
    "address protection shows)",
    _line,
    why=lambda value: _line_problem(value) or "must be one line of text",
)
POSTAL_CODE = Format("postal-code", "a postal code (postnummer): 4 digits", _trimmed(_POSTAL_CODE))
MUNICIPALITY_CODE = Format(
    "municipality-code",
    "a municipality code (kommunekode): 3 or 4 digits (kept as 4)",
    lambda v: normal.zfill(4) if (normal := _trimmed(_MUNICIPALITY_CODE)(v)) else None,
)
SOR = Format(
    "sor",
    "a SOR-ID (leading zeros and surrounding spaces do not count)",
    normalise_sor,
)
SOR_CODE = Format("sor", "a SOR-ID: 11 to 18 digits", _trimmed(_SOR_CODE))
AUTHORIZATION_ID = Format(
    "authorization-id",
    "an autorisations-ID: five characters, consonants and digits, such as CBDJ6",
    normalise_authorization_id,
)
BLOCK_ID = Format("block-id", "a block's id (`Block.id`)", lambda v: v if _BLOCK_ID.fullmatch(v) else None)
VERSION = Format(
    "version",
    "a master-card version as read (`masterCard { version }`)",
    lambda v: v if _VERSION.fullmatch(v) else None,
)
