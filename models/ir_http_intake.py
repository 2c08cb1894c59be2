import json

from werkzeug.exceptions import UnsupportedMediaType

from odoo import models
from odoo.http import Response, request

# the doors of other systems into the hub (controllers/webhook.py)
INTAKE_PATHS = (
    "/finance_hub/webhook/",
    "/finance_hub/bi/ack/",
    "/finance_hub/ubl/",
    "/finance_hub/cxml/",
)
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


class IrHttp(models.AbstractModel):
    _inherit = "ir.http"

    @classmethod
    def _pre_dispatch(cls, rule, args):
        """Refuse a form body on the intakes before Odoo reads it.

        Odoo parses form bodies for every route before the controller runs,
        without a deadline: a sender trickling a form would hold a worker.
        The intakes take JSON or XML only, read within a deadline.
        """
        httprequest = request.httprequest
        if (
            httprequest.path.startswith(INTAKE_PATHS)
            and httprequest.mimetype in FORM_TYPES
        ):
            answer = {
                "error": "unsupported_media_type",
                "message": "Send the body as JSON or XML, not as a form.",
            }
            raise UnsupportedMediaType(
                response=Response(
                    json.dumps(answer),
                    status=415,
                    headers=[
                        ("Content-Type", "application/json"),
                        ("Connection", "close"),
                    ],
                )
            )
        return super()._pre_dispatch(rule, args)
