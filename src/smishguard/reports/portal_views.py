"""The employee portal's "Report a text" page: paste a suspicious text (and who sent it), get the verdict."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from smishguard.accounts.page_guards import signed_in
from smishguard.accounts.throttle import account_refusal
from smishguard.reports import intake
from smishguard.reports.errors import InvalidReport
from smishguard.reports.models import Report


@signed_in
def report_text(request: HttpRequest) -> HttpResponse:
    values = {"text": "", "sender": ""}
    error = None
    result = None
    status = 200
    if request.method == "POST":
        refused = account_refusal(request, "report", request.user.email)
        if refused is not None:
            return refused
        values = {"text": request.POST.get("text", ""), "sender": request.POST.get("sender", "")}
        try:
            result = intake.submit(
                values["text"],
                channel=Report.Channel.PORTAL,
                reporter=intake.reporter_for(request.user),
                sender=values["sender"],
                request=request,
            )
        except InvalidReport as exc:
            error = exc.message[0].upper() + exc.message[1:] + "."
            status = 400
        else:
            if result.state == Report.State.RATE_LIMITED:
                status = 429
            values = {"text": "", "sender": ""}
    elif request.method != "GET":
        return HttpResponse(status=405)
    recent = Report.objects.filter(reporter=request.user).order_by("-created_at")[:5]
    context = {"values": values, "error": error, "result": result, "recent": recent, "nav": "report-text"}
    return render(request, "reports/portal_report.html", context, status=status)
