import sys

from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from smishguard import api
from smishguard.health import database_outage
from smishguard.responses import error_response


def _json_or_page_404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/api/"):
        return error_response(404, "not_found", "not found")
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def _json_or_page_500(request: HttpRequest) -> HttpResponse:
    outage = database_outage(request, sys.exc_info()[1])  # (Django calls this inside its ``except``)
    if outage is not None:
        return outage
    if request.path.startswith("/api/"):
        return error_response(500, "internal_error", "an unexpected error occurred; it has been logged")
    from django.views.defaults import server_error

    return server_error(request)


def _bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/api/"):
        return error_response(400, "bad_request", "bad request")
    from django.views.defaults import bad_request

    return bad_request(request, exception)


handler400 = _bad_request
handler404 = _json_or_page_404
handler500 = _json_or_page_500

urlpatterns = [
    path("api/authz/", include("smishguard.gateway.urls")),  # the gateway's checks: plain views, before the API
    path(".well-known/smishguard/", include("smishguard.gateway.jwks")),  # the assertion's public keys
    path("api/", api.urls()),
    path("hooks/", include("smishguard.messaging.urls")),
    path("console/watch/", include("smishguard.watch.urls")),
    path("console/gateway/", include("smishguard.gateway.console_urls")),
    path("console/gateway/release/", include("smishguard.gateway.release_urls")),  # containment's release button
    path("console/incidents/", include("smishguard.gateway.incident_urls")),  # the breach scope
    path("console/", include("smishguard.detection.urls")),
    path("console/", include("smishguard.reports.urls")),
    path("portal/", include("smishguard.reports.portal_urls")),
    path("console/training/results/", include("smishguard.training.results_urls")),
    path("console/training/compliance/", include("smishguard.training.compliance_urls")),
    path("console/training/", include("smishguard.training.console_urls")),
    path("console/simulations/", include("smishguard.training.simulation_urls")),
    path("learn/", include("smishguard.training.learn_urls")),
    path("s/", include("smishguard.training.landing_urls")),  # a simulation's tracked links (the simulation host)
    path("", include("smishguard.accounts.urls")),
    path("", include("smishguard.passkeys.urls")),
    path("", include("smishguard.web.urls")),
]
