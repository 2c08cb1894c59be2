"""Plain-Python tests: the repository root goes on sys.path so that ``lib``
and ``simulator`` import without Odoo. Run with ``--rootdir=tests/unit`` so
pytest does not import the addon package above this folder."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def pytest_terminal_summary(terminalreporter):
    """The hostile-input tally, when the ``test_hostile_*`` modules ran."""
    hostile = sys.modules.get("hostile_inputs")
    if hostile is not None and hostile.TALLY["tried"]:
        terminalreporter.write_line(hostile.summary())
