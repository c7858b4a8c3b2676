"""``GET /.well-known/smishguard/jwks.json``: the public keys that verify ``X-Smishguard-Assertion``.

Public (an app fetches it without a session), JSON ``{"keys": [...]}`` with the public parts only (``kty``,
``crv``, ``x``, ``y``, ``kid``, ``use``, ``alg``), cached by the app for ``keys.JWKS_MAX_AGE`` seconds.  It lists the
current key and every key retired less than ``keys.PUBLISH_RETIRED_SECONDS`` ago (mounted in smishguard.urls).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.http import require_safe

from smishguard.gateway import keys


@require_safe
def jwks(_request: HttpRequest) -> HttpResponse:
    published = keys.published()
    if not published:  # a table emptied by hand: the first check would make the key anyway
        keys.create_first()
        published = keys.published()
    response = JsonResponse({"keys": published})
    response["Cache-Control"] = f"public, max-age={keys.JWKS_MAX_AGE}"
    response["Access-Control-Allow-Origin"] = "*"  # public keys: an app's browser code may verify too
    return response


urlpatterns = [path("jwks.json", jwks, name="gateway-jwks")]
