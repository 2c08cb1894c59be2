"""When to try a failed message again, and when to give up.

Exponential backoff with "full jitter" (AWS architecture blog), capped, plus
a hard limit on attempts and on the age of the message.

>>> policy = RetryPolicy(base_seconds=10, cap_seconds=3600, max_attempts=5)
>>> policy.delay(1, rand=lambda: 1.0)
10.0
>>> policy.delay(3, rand=lambda: 1.0)
40.0
>>> policy.delay(30, rand=lambda: 1.0)
3600.0
>>> policy.gives_up(attempts=5, age_seconds=0)
True
"""

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    base_seconds: float = 30.0
    cap_seconds: float = 6 * 3600.0
    max_attempts: int = 8
    max_age_seconds: float = 3 * 24 * 3600.0
    min_seconds: float = 1.0

    def delay(self, attempt, rand=random.random):
        """Seconds to wait before attempt ``attempt + 1`` (``attempt`` >= 1)."""
        ceiling = min(self.cap_seconds, self.base_seconds * (2 ** max(attempt - 1, 0)))
        return max(self.min_seconds, ceiling * rand())

    def gives_up(self, attempts, age_seconds):
        """True when the message must go to the dead-letter state."""
        return attempts >= self.max_attempts or age_seconds >= self.max_age_seconds
