"""Issue #13, finding 5: the payload fingerprint cannot be brute-forced."""

import hashlib
import json

import pytest

from lib import fingerprint

KEYS = ["master-key-new", "master-key-old"]


def test_a_fingerprint_cannot_be_matched_by_guessing_without_the_key():
    payload = json.dumps({"vat": "BE0477472701"})
    stored = fingerprint.fingerprint(KEYS, payload)
    # the attack: hash candidate payloads and compare with the visible value
    guesses = {hashlib.sha256(payload.encode()).hexdigest()}
    assert not any(guess in stored for guess in guesses)
    assert fingerprint.matches(KEYS, stored, payload)


def test_fingerprints_survive_a_rotation_while_the_old_key_is_configured():
    stored = fingerprint.fingerprint(["master-key-old"], "{}")
    assert fingerprint.matches(KEYS, stored, "{}")
    with pytest.raises(fingerprint.UnknownKeyError):
        fingerprint.matches(["master-key-new"], stored, "{}")


def test_a_changed_payload_does_not_match():
    stored = fingerprint.fingerprint(KEYS, '{"a": 1}')
    assert not fingerprint.matches(KEYS, stored, '{"a": 2}')
    assert not fingerprint.matches(KEYS, "", '{"a": 1}')
    assert not fingerprint.matches(KEYS, "deadbeef", '{"a": 1}')
