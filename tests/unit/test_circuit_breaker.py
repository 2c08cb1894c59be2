import dataclasses
import doctest

import pytest

from lib import circuit_breaker
from lib.circuit_breaker import BreakerState, CircuitBreaker

BREAKER = CircuitBreaker(failure_threshold=3, cooldown_seconds=60)


def _fail(state, times, now=0.0):
    for _ in range(times):
        state = BREAKER.record_failure(state, now)
    return state


def test_module_examples_hold():
    result = doctest.testmod(circuit_breaker, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


def test_defaults():
    assert BreakerState() == BreakerState("closed", 0, None)
    assert CircuitBreaker() == CircuitBreaker(failure_threshold=5, cooldown_seconds=60)


def test_closed_allows_calls_and_keeps_the_state():
    state = BreakerState()
    assert BREAKER.allow(state, 10) == (True, state)


def test_closed_counts_failures_below_the_threshold():
    state = _fail(BreakerState(), 2)
    assert state == BreakerState("closed", 2, None)
    assert BREAKER.allow(state, 1)[0] is True


def test_closed_opens_at_the_threshold():
    state = _fail(BreakerState(), 2)
    opened = BREAKER.record_failure(state, 100)
    assert opened == BreakerState("open", 3, 100)
    assert CircuitBreaker.just_opened(state, opened)


def test_threshold_of_one_opens_on_the_first_failure():
    breaker = CircuitBreaker(failure_threshold=1, cooldown_seconds=5)
    assert breaker.record_failure(BreakerState(), 7) == BreakerState("open", 1, 7)


def test_success_in_closed_state_resets_the_count():
    state = _fail(BreakerState(), 2)
    assert BREAKER.record_success(state, 5) == BreakerState()


def test_open_refuses_calls_during_the_cooldown():
    state = BreakerState("open", 3, 100)
    assert BREAKER.allow(state, 100) == (False, state)
    assert BREAKER.allow(state, 159.9) == (False, state)


def test_open_turns_half_open_after_the_cooldown_with_one_probe():
    state = BreakerState("open", 3, 100)
    allowed, probing = BREAKER.allow(state, 160)
    assert allowed is True
    assert probing == BreakerState("half_open", 3, 160)
    # a second worker asking right after must wait for the probe's result
    assert BREAKER.allow(probing, 161) == (False, probing)


def test_half_open_success_closes():
    probing = BreakerState("half_open", 3, 160)
    assert BREAKER.record_success(probing, 161) == BreakerState()


def test_half_open_failure_reopens_with_a_new_cooldown_and_no_new_notice():
    probing = BreakerState("half_open", 3, 160)
    reopened = BREAKER.record_failure(probing, 170)
    assert reopened == BreakerState("open", 4, 170)
    assert not CircuitBreaker.just_opened(probing, reopened)
    assert BREAKER.allow(reopened, 229)[0] is False
    assert BREAKER.allow(reopened, 230)[0] is True


def test_lost_probe_is_replaced_after_another_cooldown():
    probing = BreakerState("half_open", 3, 160)
    allowed, new_probe = BREAKER.allow(probing, 220)
    assert allowed is True
    assert new_probe == BreakerState("half_open", 3, 220)


def test_failure_reported_while_open_keeps_the_cooldown():
    state = BreakerState("open", 3, 100)
    assert BREAKER.record_failure(state, 150) == BreakerState("open", 4, 100)


def test_open_without_timestamp_does_not_lock_the_endpoint():
    allowed, state = BREAKER.allow(BreakerState("open", 3, None), 5)
    assert allowed is True
    assert state.status == "half_open"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (BreakerState(), BreakerState("open", 3, 1.0), True),
        (BreakerState("closed", 2), BreakerState("closed", 3), False),
        (BreakerState("half_open", 3, 1.0), BreakerState("open", 4, 2.0), False),
        (BreakerState("open", 3, 1.0), BreakerState("open", 4, 1.0), False),
        (BreakerState("half_open", 3, 1.0), BreakerState(), False),
    ],
)
def test_just_opened_notifies_once_per_outage(old, new, expected):
    assert CircuitBreaker.just_opened(old, new) is expected


def test_full_outage_cycle_notifies_exactly_once():
    state, notices, now = BreakerState(), 0, 0.0
    for _ in range(10):
        allowed, state = BREAKER.allow(state, now)
        if allowed:
            new = BREAKER.record_failure(state, now)
            notices += CircuitBreaker.just_opened(state, new)
            state = new
        now += 30
    assert notices == 1
    assert state.status == "open"
    allowed, state = BREAKER.allow(state, now + 60)
    assert allowed
    assert BREAKER.record_success(state, now + 61) == BreakerState()


def test_states_are_immutable_values():
    state = BreakerState()
    with pytest.raises(dataclasses.FrozenInstanceError):
        state.status = "open"


def test_invalid_settings_and_states_are_refused():
    with pytest.raises(ValueError, match="at least 1"):
        CircuitBreaker(failure_threshold=0)
    with pytest.raises(ValueError, match="must not be negative"):
        CircuitBreaker(cooldown_seconds=-1)
    with pytest.raises(ValueError, match="unknown circuit breaker status 'broken'"):
        BreakerState("broken")
