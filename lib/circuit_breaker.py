"""Circuit breaker for an outbound endpoint, as a pure state machine.

When a receiving system is down, every queued message would otherwise wait
for its own timeout and burn a retry. After ``failure_threshold`` failures in
a row the breaker opens: deliveries are held (not attempted, not counted as
attempts) until ``cooldown_seconds`` have passed; then one probe goes
through ("half open"). Its success closes the breaker, its failure opens it
for another cooldown.

The state is a small frozen value that the caller stores (the ORM keeps it on
the backend record) and passes back in, so the logic stays testable without a
database and without a clock.

>>> breaker = CircuitBreaker(failure_threshold=2, cooldown_seconds=60)
>>> state = breaker.record_failure(BreakerState(), now=0)
>>> state = breaker.record_failure(state, now=1)
>>> state.status
'open'
>>> breaker.allow(state, now=30)[0]
False
>>> allowed, state = breaker.allow(state, now=61)
>>> allowed, state.status
(True, 'half_open')
>>> breaker.record_success(state, now=62)
BreakerState(status='closed', consecutive_failures=0, opened_at=None)
"""

from dataclasses import dataclass, replace

CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half_open"
STATUSES = (CLOSED, OPEN, HALF_OPEN)


@dataclass(frozen=True)
class BreakerState:
    """``opened_at``: when the breaker opened, or when the current probe began."""

    status: str = CLOSED
    consecutive_failures: int = 0
    opened_at: float | None = None

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(
                f"unknown circuit breaker status {self.status!r}; "
                f"expected one of: {', '.join(STATUSES)}"
            )


@dataclass(frozen=True)
class CircuitBreaker:
    failure_threshold: int = 5
    cooldown_seconds: float = 60.0

    def __post_init__(self):
        if self.failure_threshold < 1:
            raise ValueError("the failure threshold must be at least 1")
        if self.cooldown_seconds < 0:
            raise ValueError("the cooldown must not be negative")

    def _cooled_down(self, state, now):
        # a missing timestamp (hand-edited record) must not lock the endpoint
        return state.opened_at is None or now - state.opened_at >= self.cooldown_seconds

    def allow(self, state, now):
        """Return ``(may call now, new state)``.

        Open turns half open after the cooldown and lets one probe through.
        While that probe runs, other calls wait; a probe that never reports
        back (crashed worker) is replaced by a new one after another cooldown.

        >>> breaker = CircuitBreaker(cooldown_seconds=10)
        >>> probing = BreakerState(HALF_OPEN, 5, opened_at=100)
        >>> breaker.allow(probing, now=105)[0], breaker.allow(probing, now=110)[0]
        (False, True)
        """
        if state.status == CLOSED:
            return True, state
        if not self._cooled_down(state, now):
            return False, state
        return True, replace(state, status=HALF_OPEN, opened_at=now)

    def record_success(self, state, now):
        """Any success closes the breaker and resets the counters."""
        return BreakerState()

    def record_failure(self, state, now):
        """Count a failure; open at the threshold or when the probe failed.

        >>> breaker = CircuitBreaker(failure_threshold=3, cooldown_seconds=10)
        >>> breaker.record_failure(BreakerState(HALF_OPEN, 3, opened_at=50), now=60)
        BreakerState(status='open', consecutive_failures=4, opened_at=60)
        """
        failures = state.consecutive_failures + 1
        if state.status == HALF_OPEN:
            return BreakerState(OPEN, failures, opened_at=now)
        if state.status == OPEN:
            # a call that started before the breaker opened: keep the cooldown
            return replace(state, consecutive_failures=failures)
        if failures >= self.failure_threshold:
            return BreakerState(OPEN, failures, opened_at=now)
        return BreakerState(CLOSED, failures)

    @staticmethod
    def just_opened(old, new):
        """True once per outage: when a closed breaker opens, to notify the owner.

        A failed probe re-opens a half-open breaker without a new notice.

        >>> CircuitBreaker.just_opened(BreakerState(), BreakerState(OPEN, 5, 0.0))
        True
        >>> CircuitBreaker.just_opened(BreakerState(HALF_OPEN, 5, 0.0),
        ...                            BreakerState(OPEN, 6, 9.0))
        False
        """
        return old.status == CLOSED and new.status == OPEN
