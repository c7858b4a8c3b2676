"""Response endpoints of the JSON API (``POST /api/scan`` is :mod:`smishguard.detection.api`'s).

``response_router`` (response):
* ``POST /api/reports`` (token scope "reports"): report a text for an integration (a mail gateway, a chat bot);
  naming the employee who reported also needs the scope "reports:attribute".
* ``GET /api/blocklists/rpz | hosts | domains`` (scope "blocklists"): the lists for resolvers and proxies, as
  text; also with ``?token=`` for tools that cannot send a header.  ``GET /api/blocklists``: the entries as JSON.
* ``GET /api/stix/campaigns`` and ``/api/stix/campaigns/{id}`` (scope "blocklists"): STIX 2.1 bundles.
"""

from __future__ import annotations

from http import HTTPStatus

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Router, Schema
from ninja.responses import Status
from ninja.security import APIKeyQuery
from pydantic import Field

from smishguard.accounts.models import ApiToken
from smishguard.accounts.throttle import limit_account
from smishguard.accounts.tokens import TokenAuth, authenticate
from smishguard.audit import Action, record, record_refusal
from smishguard.reports import blocklists, intake, stix
from smishguard.reports.errors import AttributionNotAllowed, ReportRateLimited
from smishguard.reports.models import Campaign, Report

# A "reports" token with it may name the employee who reported (reporter_phone/_email), making the report count
# as known; without it an integration's reports are its own, never an employee's.  (Registered in ReportsConfig.)
ATTRIBUTE_SCOPE = "reports:attribute"


response_router = Router(tags=["response"])


class QueryToken(APIKeyQuery):
    """``?token=sg_...`` for resolvers and proxies that fetch a list by URL and cannot set a header."""

    param_name = "token"

    def __init__(self, scope: str) -> None:
        super().__init__()
        self.scope = scope

    def authenticate(self, request: HttpRequest, key: str | None) -> ApiToken | None:
        row = authenticate(key, self.scope)
        if row is not None:
            limit_account(request, "api", f"token:{row.pk}")
        elif key is not None:  # (no ?token= at all: nothing was presented, nothing to record)
            kind = f"{self.scope}:query"
            record_refusal(Action.API_TOKEN_REFUSED, request=request, kind=kind, scope=self.scope, via="query")
        return row


LISTS_AUTH = [TokenAuth("blocklists"), QueryToken("blocklists")]


def _json_errors(*statuses: int) -> dict:
    """``openapi_extra`` documenting the JSON errors of an operation that answers 200 with text (a blocklist, a
    STIX bundle), so its ``response=`` is not used: each error is ``{"error": {"code", "message"}}``."""
    body = {"application/json": {"schema": {"type": "object", "additionalProperties": True}}}
    return {"responses": {status: {"description": HTTPStatus(status).phrase, "content": body} for status in statuses}}


# No valid token with the scope; too many requests with this token.  One campaign: an id that is no integer, none.
LIST_ERRORS = _json_errors(401, 429)
ONE_CAMPAIGN_ERRORS = _json_errors(400, 401, 404, 429)


class ReportIn(Schema):
    text: str = Field(..., description=f"the suspicious text, up to {intake.MAX_REPORT_CHARS} characters")
    sender: str = Field("", description="who sent it (a number or a name), as the reporter saw it")
    reporter_phone: str | None = Field(None, max_length=32, description="the reporter's number (E.164)")
    reporter_email: str | None = Field(None, max_length=254, description="the reporter's e-mail address")


@response_router.post(
    "/reports",
    auth=TokenAuth("reports"),
    summary="Report a suspicious text",
    description='Needs an API token with the "reports" scope.  Naming the reporter (`reporter_phone` or '
    "`reporter_email`, matched to an employee; an unknown one is recorded, not trusted) also needs the "
    '"reports:attribute" scope: without it such a request is refused with 403 `attribution_not_allowed`.  '
    "Without a named reporter the report is the integration's own (\"integration:NAME\", the token's name) and "
    "counts as unknown: it never triggers blocklisting or the warning to all staff.  Answers 201 with the report, "
    "its verdict and its campaign; 429 when the reporter sent too many reports in a short time (the report is "
    "recorded).",
    response={201: dict, 400: dict, 401: dict, 403: dict, 413: dict, 429: dict},
)
def create_report(request: HttpRequest, payload: ReportIn) -> Status:
    token = request.auth
    named = "reporter_phone" if payload.reporter_phone else "reporter_email" if payload.reporter_email else None
    if named is not None and ATTRIBUTE_SCOPE not in token.scopes:
        # Refused rather than ignored: the integrator learns at once that the name did not count.
        record(
            Action.REPORT_ATTRIBUTION_REFUSED,
            request=request,
            actor_label=f"integration:{token.name}",
            token=token.name,
            token_id=token.pk,
            field=named,
        )
        raise AttributionNotAllowed(
            f"this token may not name the reporter: naming an employee ({named}) needs the "
            f'"{ATTRIBUTE_SCOPE}" scope; leave {named} out to report as the integration itself'
        )
    if payload.reporter_phone:
        reporter = intake.reporter_by_phone(payload.reporter_phone)
    elif payload.reporter_email:
        reporter = intake.reporter_by_email(payload.reporter_email)
    else:
        # The integration's own report: never an employee's, so it counts as unknown for every threshold.
        reporter = intake.Reporter(employee=None, known=False, label=f"integration:{token.name}")
    report = intake.submit(
        payload.text, channel=Report.Channel.API, reporter=reporter, sender=payload.sender, request=request
    )
    if report.state == Report.State.RATE_LIMITED:
        raise ReportRateLimited(intake.LIMIT_REPLY, report_id=report.pk)
    return Status(201, {"report": report.to_dict(), "verdict": report.verdict_json, "campaign_id": report.campaign_id})


def _text(body: str, filename: str, content_type: str = "text/plain; charset=utf-8") -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@response_router.get(
    "/blocklists/rpz", auth=LISTS_AUTH, summary="The RPZ zone (BIND, Unbound, PowerDNS)", openapi_extra=LIST_ERRORS
)
def blocklist_rpz(request: HttpRequest) -> HttpResponse:
    return _text(blocklists.build().rpz, blocklists.FILES["rpz"])


@response_router.get(
    "/blocklists/hosts", auth=LISTS_AUTH, summary="A hosts file (0.0.0.0 domain)", openapi_extra=LIST_ERRORS
)
def blocklist_hosts(request: HttpRequest) -> HttpResponse:
    return _text(blocklists.build().hosts, blocklists.FILES["hosts"])


@response_router.get(
    "/blocklists/domains", auth=LISTS_AUTH, summary="A plain list of domains, one a line", openapi_extra=LIST_ERRORS
)
def blocklist_domains(request: HttpRequest) -> HttpResponse:
    return _text(blocklists.build().domains, blocklists.FILES["domains"])


@response_router.get(
    "/blocklists",
    auth=LISTS_AUTH,
    summary="The blocklist's entries as JSON",
    response={200: dict},
    openapi_extra=LIST_ERRORS,
)
def blocklist_json(request: HttpRequest) -> dict:
    lists = blocklists.build()
    return {"serial": lists.serial, "entries": [e.to_dict() for e in lists.entries]}


@response_router.get(
    "/stix/campaigns",
    auth=LISTS_AUTH,
    summary="STIX 2.1 bundle of every campaign judged smishing",
    openapi_extra=LIST_ERRORS,
)
def stix_all(request: HttpRequest) -> HttpResponse:
    rows = list(Campaign.objects.filter(verdict="smishing").order_by("pk"))
    return _text(stix.bundle_json(rows), "smishguard-campaigns.stix.json", "application/stix+json;version=2.1")


@response_router.get(
    "/stix/campaigns/{campaign_id}",
    auth=LISTS_AUTH,
    summary="STIX 2.1 bundle of one campaign",
    openapi_extra=ONE_CAMPAIGN_ERRORS,
)
def stix_one(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign, pk=campaign_id)
    return _text(
        stix.bundle_json([campaign]),
        f"smishguard-campaign-{campaign.pk}.stix.json",
        "application/stix+json;version=2.1",
    )
