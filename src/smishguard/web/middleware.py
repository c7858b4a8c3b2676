"""Middleware of the web app."""

from __future__ import annotations

from collections.abc import Callable

from csp.constants import HEADER
from csp.middleware import CheckableLazyObject, CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.contrib.messages.middleware import MessageMiddleware as _MessageMiddleware
from django.contrib.messages.storage import default_storage
from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers
from django.utils.functional import SimpleLazyObject, empty


class MessageMiddleware(_MessageMiddleware):
    """Django's message middleware, with the storage made the first time a view or template uses it.

    Django's makes the message storage (it parses the messages cookie) for every request and asks it to save on
    every response, JSON API calls included; on the sign-in endpoints that was about 5% of the server's time.
    A storage nobody used has nothing to save (Django's own ``update`` stores only when messages were read or
    added), so a request that never touched it is answered as it is.
    """

    def process_request(self, request: HttpRequest) -> None:
        request._messages = SimpleLazyObject(lambda: default_storage(request))

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if getattr(request, "sg_no_store", False):
            add_never_cache_headers(response)  # the page shows a secret once (an issued enrolment link)
        messages = getattr(request, "_messages", None)
        if isinstance(messages, SimpleLazyObject) and messages._wrapped is empty:
            return response
        return super().process_response(request, response)


class StrictTransportSecurityMiddleware:
    """Strict-Transport-Security on every response when the configured origin (``SMISHGUARD_ORIGIN``) is https.

    Django's SecurityMiddleware sends it only when ``request.is_secure()``, which behind a TLS-terminating
    proxy depends on trusting that proxy's headers; the origin the employees use is what decides here.  The
    value comes from ``SECURE_HSTS_SECONDS`` and ``SECURE_HSTS_INCLUDE_SUBDOMAINS``; placed after Django's
    middleware, this one's header is the only one (Django's never sets a second).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.value = ""
        if settings.SMISHGUARD.secure_origin and settings.SECURE_HSTS_SECONDS:
            self.value = f"max-age={settings.SECURE_HSTS_SECONDS}"
            if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
                self.value += "; includeSubDomains"

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self.value:
            response.headers.setdefault("Strict-Transport-Security", self.value)
        return response


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, with the site's one policy built once instead of for every response.

    django-csp builds the header from the settings again for each response (twice: the policy and the
    report-only one), about three times the cost of a bare JSON view here; on the sign-in endpoints that is
    several percent of the server's time.  Our policy is the same for every response unless a view changes it
    (django-csp's decorators mark the response) or a template asks for a nonce: then django-csp's own path
    runs, as it does when a report-only policy, excluded prefixes or DEBUG (its error-page exemption) are set.
    """

    _PER_RESPONSE = (
        "_csp_config",
        "_csp_update",
        "_csp_replace",
        "_csp_exempt",
        "_csp_config_ro",
        "_csp_update_ro",
        "_csp_replace_ro",
        "_csp_exempt_ro",
    )

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        super().__init__(get_response)
        config = getattr(settings, "CONTENT_SECURITY_POLICY", None) or {}
        self.fixed = (
            not settings.DEBUG
            and not getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None)
            and not config.get("EXCLUDE_URL_PREFIXES")
        )
        self.policy = build_policy()  # django-csp's own rendering of settings.CONTENT_SECURITY_POLICY

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if (
            not self.fixed
            or getattr(request, "_csp_nonce", None) is not None
            or any(hasattr(response, name) for name in self._PER_RESPONSE)
        ):
            return super().process_response(request, response)
        if self.policy and HEADER not in response:
            response[HEADER] = self.policy
        # As django-csp does: a nonce asked for after the header is written is an error, not a silent gap.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response
