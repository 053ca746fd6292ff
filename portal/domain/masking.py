"""Personal data that a reporter typed into the text of a public report, hidden before the
public sees the text: NIK (and other 16-digit numbers, such as a family-card number), phone
numbers and e-mail addresses. Names cannot be recognised reliably and are not touched.

Used wherever report text leaves the staff side: the suggestions shown while a citizen files
(portal/domain/support.py) and the public feed. Mask the whole text first and shorten it
afterwards: shortening first could cut a number in two and leave half of it unmasked.
"""
import re

from portal.i18n import gettext

# An e-mail address, also with spaces around the @ ("budi @ gmail.com").
_EMAIL = re.compile(r"[\w.+\-]+\s?@\s?[\w\-]+(?:\.[\w\-]+)+", re.UNICODE)
# Sixteen digits, alone or in groups ("3603 1234 5678 0001", "36.03.12.120590.0001").
# ASCII digits only: Python's \d also takes Arabic-Indic and other digits.
_SIXTEEN_DIGITS = re.compile(r"(?<![0-9])(?:[0-9][ .\-]?){15}[0-9](?![0-9])")
# A run that may be a phone number: digits, spaces, dots, dashes and brackets, on one line.
_PHONE_RUN = re.compile(r"(?<![0-9])\+?\(?[0-9][0-9 ().\-]{6,22}[0-9](?![0-9])")
_NOT_DIGIT = re.compile(r"[^0-9]")
EXCERPT_LENGTH = 160


def _is_phone(run: str) -> bool:
    """An Indonesian number as people write it: 0812..., 62812..., +62 812..., (021) 555...,
    with 9 to 15 digits. A sum of money (Rp 1.500.000) or a date starts otherwise."""
    digits = _NOT_DIGIT.sub("", run)
    if not 9 <= len(digits) <= 15:
        return False
    return digits.startswith(("0", "62"))


def mask_personal_data(text: str | None) -> str:
    """``text`` with every NIK-like number, phone number and e-mail address replaced by a
    short note in the reader's language."""
    if not text:
        return ""
    text = _EMAIL.sub(lambda _m: gettext("[e-mail hidden]"), text)
    text = _SIXTEEN_DIGITS.sub(lambda _m: gettext("[NIK hidden]"), text)
    return _PHONE_RUN.sub(
        lambda m: gettext("[phone number hidden]") if _is_phone(m.group(0)) else m.group(0),
        text)


def shorten(text: str, length: int = EXCERPT_LENGTH) -> str:
    """At most ``length`` characters, cut at a space where there is one, with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= length:
        return text
    cut = text[: length - 1]
    space = cut.rfind(" ")
    if space > length // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.;:-") + "…"


def public_excerpt(text: str | None, length: int = EXCERPT_LENGTH) -> str:
    """The beginning of a report's text as the public may read it: masked, then shortened."""
    return shorten(mask_personal_data(text), length)
