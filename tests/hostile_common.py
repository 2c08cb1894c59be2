"""What the hostile-input tests share: the payloads, the loggers the engine
writes on purpose, and the tally of how each hostile input was answered."""

import logging
from collections import Counter
from pathlib import Path

from ..simulator.hostile import INJECTED_EMAILS, INJECTIONS  # noqa: F401

_logger = logging.getLogger(__name__)

SUMMARY = "hostile input: %s tried, %s rejected cleanly, %s accepted, %s crashes"
MB = 1024 * 1024
SAMPLES = Path(__file__).resolve().parents[1] / "mappings" / "samples"
# what the engine logs on purpose for a message that fails or is retried
ENGINE_LOGGERS = (
    "odoo.addons.finance_integration_hub.models.fih_message_processing",
    "odoo.addons.finance_integration_hub.models.fih_message_queue",
    "odoo.addons.finance_integration_hub.models.fih_backend",
    "odoo.sql_db",
)


def nested_json(depth):
    return "[" * depth + "]" * depth


class HostileTally:
    """Counts of one test class, logged once when the class is done."""

    @classmethod
    def _setup_tally(cls):
        cls.tally = Counter(tried=0, rejected=0, accepted=0, crashes=0)

    @classmethod
    def _log_tally(cls):
        tally = cls.tally
        _logger.info(
            SUMMARY,
            tally["tried"],
            tally["rejected"],
            tally["accepted"],
            tally["crashes"],
        )
