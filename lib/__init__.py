"""Plain-Python building blocks of the hub: no ORM, no Odoo imports.

Everything here is unit-tested without a database (``tests/unit``).
"""
