import pytest
from cryptography.fernet import Fernet

from lib.retry_policy import RetryPolicy
from lib.secret_box import MasterKeyError, SecretBox


def test_backoff_doubles_up_to_the_cap_with_jitter():
    policy = RetryPolicy(base_seconds=10, cap_seconds=100)
    ceilings = [policy.delay(n, rand=lambda: 1.0) for n in range(1, 7)]
    assert ceilings == [10, 20, 40, 80, 100, 100]
    assert policy.delay(3, rand=lambda: 0.5) == 20
    assert policy.delay(3, rand=lambda: 0.0) == policy.min_seconds


def test_gives_up_on_attempts_or_age():
    policy = RetryPolicy(max_attempts=3, max_age_seconds=60)
    assert not policy.gives_up(2, 59)
    assert policy.gives_up(3, 0)
    assert policy.gives_up(1, 60)


def test_rotation_old_key_still_decrypts_and_rotate_re_encrypts():
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    token = SecretBox(old).encrypt("api-key")
    box = SecretBox(f"{new},{old}")
    assert box.decrypt(token) == "api-key"
    rotated = box.rotate(token)
    assert SecretBox(new).decrypt(rotated) == "api-key"


def test_missing_or_wrong_key_is_a_clear_error():
    with pytest.raises(MasterKeyError, match="No master key"):
        SecretBox("")
    with pytest.raises(MasterKeyError, match="not a valid Fernet key"):
        SecretBox("short")
    token = SecretBox(Fernet.generate_key().decode()).encrypt("x")
    with pytest.raises(MasterKeyError, match="cannot be decrypted"):
        SecretBox(Fernet.generate_key().decode()).decrypt(token)
