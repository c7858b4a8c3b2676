"""The detection endpoint of the JSON API.

``router`` (detection):
* ``POST /api/scan`` (token scope "scan"): the verdict on a text.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import Field

from smishguard.accounts.tokens import TokenAuth
from smishguard.detection.services import current_matcher

router = Router(tags=["detection"])


class ScanIn(Schema):
    text: str = Field(..., max_length=1_048_576, description="the text of the message, up to 1 MiB")


@router.post(
    "/scan",
    auth=TokenAuth("scan"),
    summary="Verdict for a text",
    description='Needs an API token with the "scan" scope: `Authorization: Bearer sg_...`.',
    response={200: dict, 400: dict, 401: dict},
)
def scan(request: HttpRequest, payload: ScanIn) -> dict:
    from smishguard.engine.sms import verdict

    return verdict(payload.text, matcher=current_matcher()).to_dict()
