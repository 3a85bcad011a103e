"""The follow-up code (查询码) a resident keeps to follow their matter without an account.

A code is 10 characters from a 30-character alphabet: the digits 2–9 and the capital letters without
I, L, O and U (Crockford's base 32 without 0 and 1). No two characters look alike (0/O, 1/I/L), so an
older person can copy it off a receipt or read it over the phone. It is shown in two groups of five
("7KQMX-3WDR9"); typed in lower case, with spaces or hyphens, it is still found.

Why 10 characters are enough: 30¹⁰ ≈ 5.9 × 10¹⁴ codes (49 bits), drawn with `secrets`. A guess names a
case number and a code, so each try hits with a chance of 1 in 30¹⁰, however many cases there are.
Every way of trying a code draws on one budget of 20 a minute and 200 a day per address (the
"follow" limit in web/resident.py): 10,000 addresses guessing for a whole year (7.3 × 10⁸ tries)
would find one case with a chance of about 1 in 800,000.

Only a hash is stored: SHA-256 of the case number and the code, so one computation never tests a guess
against every case at once. Codes issued before this format (32 mixed-case characters, stored as the
SHA-256 of the code alone) keep working, so links on old receipts still open.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 10
GROUP = 5
_SEPARATORS = str.maketrans("", "", " -_.\u3000\u2014\u2013\uff0d")


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def grouped(code: str) -> str:
    """"7KQMX3WDR9" → "7KQMX-3WDR9" (codes of the old format are shown as they are)."""
    if len(code) != LENGTH or any(c not in ALPHABET for c in code):
        return code
    return "-".join(code[i:i + GROUP] for i in range(0, LENGTH, GROUP))


def normalised(typed: str) -> str:
    """What a person typed, as the code it can only have meant: capitals, no separators."""
    return typed.translate(_SEPARATORS).upper()


def stored_hash(number: str, code: str) -> str:
    """The hash kept on the case for a code of the current format."""
    return hashlib.sha256(f"{number}\n{code}".encode("utf-8")).hexdigest()


def legacy_hash(code: str) -> str:
    """The hash kept for codes issued before the short format (the code alone)."""
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def matches(number: str, typed: str, expected: str) -> bool:
    """Whether `typed` is the code whose hash is `expected`, in either format; both are always computed."""
    typed = typed.strip()
    short = hmac.compare_digest(stored_hash(number, normalised(typed)), expected)
    legacy = hmac.compare_digest(legacy_hash(typed), expected)
    return bool(typed) and (short or legacy)
