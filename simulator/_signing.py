"""Import the project's ``lib.standard_webhooks`` from any working directory,
or from inside the addon when Odoo's tests use the simulator.

``python -m simulator`` from the repo root and the unit tests already have
the root on ``sys.path``; a script launched from elsewhere does not.
"""

import sys
from pathlib import Path

try:  # inside the addon (Odoo tests): the addon's own lib package
    from ..lib import standard_webhooks
except ImportError:
    try:
        from lib import standard_webhooks
    except ImportError:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from lib import standard_webhooks

__all__ = ["standard_webhooks"]
