"""Minimum strength of shared secrets typed in by a person.

A shared secret is only as good as the number of guesses it takes: a
one-character cXML SharedSecret falls in seconds. A secret is accepted when
it is at least :data:`MIN_LENGTH` characters long and its estimated entropy
(length times the bits of the character classes it uses, counting repeated
characters once) reaches :data:`MIN_BITS`.

>>> weakness("x")
'it has 1 character; use at least 16'
>>> weakness("aaaaaaaaaaaaaaaaaaaa")
'it repeats the same few characters; use at least 10 different ones'
>>> print(weakness("1234567890123456"))  # doctest: +NORMALIZE_WHITESPACE
it is too easy to guess (about 53 bits); mix upper and lower case letters,
digits and symbols, or make it longer
>>> weakness("k7#Qv9!pL2@xW4$m") is None
True
>>> weakness("correct-horse-battery-staple-42") is None
True
"""

import math
import string

MIN_LENGTH = 16
MIN_DISTINCT = 10
MIN_BITS = 64

_CLASSES = (
    (string.ascii_lowercase, 26),
    (string.ascii_uppercase, 26),
    (string.digits, 10),
)
_SYMBOLS = 33


def entropy_bits(secret):
    """Rough entropy of ``secret``: length x log2(size of the alphabet used),
    the length counting each distinct character once beyond the first two
    repeats."""
    alphabet = 0
    for characters, size in _CLASSES:
        if any(c in characters for c in secret):
            alphabet += size
    if any(not c.isascii() or not c.isalnum() for c in secret):
        alphabet += _SYMBOLS
    effective = min(len(secret), 2 * len(set(secret)))
    return effective * math.log2(alphabet) if alphabet else 0.0


def weakness(secret):
    """Why ``secret`` is too weak, in words for the person entering it; None
    when it is strong enough."""
    secret = secret or ""
    if len(secret) < MIN_LENGTH:
        unit = "character" if len(secret) == 1 else "characters"
        return f"it has {len(secret)} {unit}; use at least {MIN_LENGTH}"
    if len(set(secret)) < MIN_DISTINCT:
        return (
            "it repeats the same few characters; use at least "
            f"{MIN_DISTINCT} different ones"
        )
    bits = entropy_bits(secret)
    if bits < MIN_BITS:
        return (
            f"it is too easy to guess (about {bits:.0f} bits); mix upper and "
            "lower case letters, digits and symbols, or make it longer"
        )
    return None
