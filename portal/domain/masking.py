"""Personal data that a reporter typed into the text of a public report, hidden before the
public sees the text: NIK (and other 16-digit numbers, such as a family-card number), phone
numbers and e-mail addresses; and, where the caller knows them, the reporter's own names
(any other name cannot be recognised reliably and is not touched).

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


def mask_personal_data(text: str | None, *, blank: bool = False) -> str:
    """``text`` with every NIK-like number, phone number and e-mail address replaced by a
    short note in the reader's language (by a space with ``blank``: for the search index,
    which must not depend on a language)."""
    if not text:
        return ""

    # Each marker is a literal gettext() call, so that `flask translate update` extracts it.
    def note(translated):
        return (lambda _m: " ") if blank else (lambda _m: translated())

    text = _EMAIL.sub(note(lambda: gettext("[e-mail hidden]")), text)
    text = _SIXTEEN_DIGITS.sub(note(lambda: gettext("[NIK hidden]")), text)
    phone = note(lambda: gettext("[phone number hidden]"))
    return _PHONE_RUN.sub(lambda m: phone(m) if _is_phone(m.group(0)) else m.group(0), text)


# Words that often stand before a name but say nothing about who someone is: never hidden
# as a part of the reporter's name ("Bapak Ahmad" hides "Ahmad", not every "bapak").
_NOT_NAME_PARTS = frozenset({
    "bapak", "ibu", "pak", "bu", "saudara", "saudari", "sdr", "sdri", "tuan", "nyonya", "nona",
    "haji", "hajjah", "hajah", "dokter", "drs", "dra", "ir", "prof", "mas", "mbak", "kak",
    "bin", "binti",
})
_WORD = re.compile(r"\w+", re.UNICODE)
MIN_NAME_PART = 3


def _name_pattern(names) -> re.Pattern | None:
    """One pattern for the whole names (any spacing) and each part of them of at least three
    letters, longest first, as whole words, case-insensitive."""
    alternatives = set()
    for name in names:
        parts = _WORD.findall(name or "")
        if not parts:
            continue
        alternatives.add(r"\s+".join(re.escape(p) for p in parts))
        alternatives.update(re.escape(p) for p in parts
                            if len(p) >= MIN_NAME_PART and not p.isdigit()
                            and p.casefold() not in _NOT_NAME_PARTS)
    if not alternatives:
        return None
    ordered = sorted(alternatives, key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(ordered) + r")(?!\w)", re.IGNORECASE)


def mask_names(text: str | None, names, *, blank: bool = False) -> str:
    """``text`` with the given people's names hidden: each whole name and each part of it of
    at least three letters (but not "Bapak", "Ibu" and the like), in any letter case. A
    one- or two-letter part ("Al") is hidden only inside the whole name."""
    if not text:
        return ""
    pattern = _name_pattern(names)
    if pattern is None:
        return text
    return pattern.sub(" " if blank else gettext("[name hidden]"), text)


def mask_public_text(text: str | None, names=(), *, blank: bool = False) -> str:
    """What the public may read of a text a reporter typed: personal data and the reporter's
    own names hidden."""
    return mask_names(mask_personal_data(text, blank=blank), names, blank=blank)


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
