"""The customer console: a small internal app with 1,000 demo customers, for smishguard's gateway to protect.

A plain WSGI application (no framework, nothing from smishguard): a paged list (``/customers?page=N``), a record
page (``/customers/<id>``), a one-record CSV export (``/customers/<id>/export``, which the demo's policy puts
behind a step-up) and a banner on every page saying who the app thinks is signed in:

- **verified**: ``X-Smishguard-Assertion`` checked (assertion.py): signature by smishguard's published key,
  issuer, audience (this app's origin), expiry.  Only then is the person named as signed in.
- **not verified**: the assertion is missing or bad; the banner says why, and shows the ``Remote-User`` header the
  proxy sent, marked unverified (an app that trusted it would trust whatever the network between it and the
  proxy says).

With ``show_headers`` (``--show-headers``), ``GET /debug/headers`` answers JSON: every request header as the app
received it (name, value, in order, repeats kept: what the proxy passed on) and what the banner concluded; the
tests use it to see that nothing a client sent in place of the gateway's headers gets through.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import parse_qs, urlencode

from . import customers
from .assertion import Identity, Unverified, Verifier

PAGE_SIZE = 50
ASSERTION_KEY = "HTTP_X_SMISHGUARD_ASSERTION"
RAW_HEADERS_KEY = "customer_console.raw_headers"  # [(name, value), ...] as received (set by __main__'s server)
STATIC = Path(__file__).parent / "static"
SECURITY_HEADERS = [
    ("Content-Security-Policy", "default-src 'none'; style-src 'self'; base-uri 'none'; frame-ancestors 'none'"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("Cache-Control", "no-store"),
]

_RECORD = re.compile(r"^/customers/(?P<id>[^/]+)$")
_EXPORT = re.compile(r"^/customers/(?P<id>[^/]+)/export$")

StartResponse = Callable[[str, list[tuple[str, str]]], object]


class Who:
    """What the app concluded about the request's person."""

    def __init__(self, identity: Identity | None, problem: str | None, remote_user: str | None) -> None:
        self.identity, self.problem, self.remote_user = identity, problem, remote_user

    def as_json(self) -> dict:
        return {
            "verified": self.identity is not None,
            "email": self.identity.email if self.identity else None,
            "groups": list(self.identity.groups) if self.identity else [],
            "amr": list(self.identity.amr) if self.identity else [],
            "problem": self.problem,
            "remote_user_unverified": self.remote_user,
        }


class CustomerConsole:
    def __init__(self, verifier: Verifier, *, show_headers: bool = False) -> None:
        self.verifier = verifier
        self.show_headers = show_headers

    def who(self, environ: dict) -> Who:
        remote_user = environ.get("HTTP_REMOTE_USER") or None
        try:
            return Who(self.verifier.verify(environ.get(ASSERTION_KEY)), None, remote_user)
        except Unverified as exc:
            return Who(None, str(exc), remote_user)

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or "/"
        method = environ.get("REQUEST_METHOD", "GET")
        if method not in ("GET", "HEAD"):
            return _send(
                start_response, "405 Method Not Allowed", b"GET or HEAD\n", "text/plain", [("Allow", "GET, HEAD")]
            )
        if path == "/static/console.css":
            return _send(start_response, "200 OK", (STATIC / "console.css").read_bytes(), "text/css")
        who = self.who(environ)
        if path == "/debug/headers" and self.show_headers:
            body = {"headers": environ.get(RAW_HEADERS_KEY, []), "who": who.as_json(), "path": path}
            return _send(start_response, "200 OK", json.dumps(body).encode(), "application/json")
        if path == "/":
            return _send(start_response, "302 Found", b"", "text/plain", [("Location", "/customers")])
        if path in ("/customers", "/customers/"):
            return self.list_page(environ, start_response, who)
        if match := _EXPORT.match(path):
            return self.export(start_response, match["id"])
        if match := _RECORD.match(path):
            return self.record_page(start_response, who, match["id"])
        return _page(start_response, "404 Not Found", who, "Not found", "<p>There is no such page.</p>")

    def list_page(self, environ: dict, start_response: StartResponse, who: Who) -> Iterable[bytes]:
        query = parse_qs(environ.get("QUERY_STRING", ""))
        try:
            number = int(query.get("page", ["1"])[0])
        except ValueError:
            number = 1
        last = customers.pages(PAGE_SIZE)
        number = min(max(number, 1), last)
        rows = "".join(
            f'<tr><td><a href="/customers/{c.id}">{c.id}</a></td><td>{_e(c.name)}</td><td>{_e(c.company)}</td>'
            f"<td>{_e(c.city)}</td><td>{_e(c.plan)}</td></tr>"
            for c in customers.page(number, PAGE_SIZE)
        )
        nav = []
        if number > 1:
            nav.append(f'<a rel="prev" href="/customers?{urlencode({"page": number - 1})}">Previous</a>')
        nav.append(f"<span>Page {number} of {last}</span>")
        if number < last:
            nav.append(f'<a rel="next" href="/customers?{urlencode({"page": number + 1})}">Next</a>')
        body = (
            f"<p>{customers.COUNT:,} customers.</p>"
            "<table><thead><tr><th>Id</th><th>Name</th><th>Company</th><th>City</th><th>Plan</th></tr></thead>"
            f"<tbody>{rows}</tbody></table><nav class=pages>{' '.join(nav)}</nav>"
        )
        return _page(start_response, "200 OK", who, "Customers", body)

    def record_page(self, start_response: StartResponse, who: Who, customer_id: str) -> Iterable[bytes]:
        customer = customers.get(customer_id)
        if customer is None:
            return _page(start_response, "404 Not Found", who, "No such customer", "<p>No customer has that id.</p>")
        fields = [
            ("Company", customer.company),
            ("Email", customer.email),
            ("Phone", customer.phone),
            ("City", customer.city),
            ("Plan", customer.plan),
            ("Customer since", customer.since.isoformat()),
            ("Balance", customer.balance),
            ("Note", customer.note or "—"),
        ]
        rows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in fields)
        body = (
            f'<p class=crumbs><a href="/customers">All customers</a></p>'
            f'<table class=record id=customer data-customer="{customer.id}">{rows}</table>'
            f'<p><a href="/customers/{customer.id}/export">Export this record (CSV)</a></p>'
        )
        return _page(start_response, "200 OK", who, f"{customer.name} ({customer.id})", body)

    def export(self, start_response: StartResponse, customer_id: str) -> Iterable[bytes]:
        customer = customers.get(customer_id)
        if customer is None:
            return _send(start_response, "404 Not Found", b"no such customer\n", "text/plain")
        row = [customer.id, customer.name, customer.company, customer.email, customer.phone, customer.city]
        text = "id,name,company,email,phone,city\n" + ",".join(f'"{v.replace(chr(34), "")}"' for v in row) + "\n"
        disposition = f'attachment; filename="customer-{customer.id}.csv"'
        return _send(start_response, "200 OK", text.encode(), "text/csv", [("Content-Disposition", disposition)])


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _banner(who: Who) -> str:
    if who.identity is not None:
        person = who.identity
        groups = ", ".join(person.groups) or "no groups"
        return (
            '<div class="banner verified" id=banner><span id=who-state>Verified</span> '
            f"<strong id=who>{_e(person.email)}</strong> <span class=detail>groups: {_e(groups)}; "
            f"signed with {_e(person.key_kind)} (smishguard's signed assertion checked)</span></div>"
        )
    remote = (
        f" <span class=detail>The proxy says Remote-User: <code id=remote-user>{_e(who.remote_user)}</code> "
        "(unverified: not trusted).</span>"
        if who.remote_user
        else ""
    )
    return (
        '<div class="banner unverified" id=banner><span id=who-state>Not verified</span> '
        f"<strong id=who>nobody verified</strong> <span class=detail id=why>({_e(who.problem)})</span>{remote}</div>"
    )


def _page(start_response: StartResponse, status: str, who: Who, title: str, body: str) -> Iterable[bytes]:
    document = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width, initial-scale=1">'
        f'<title>{_e(title)} · Customer console</title><link rel=stylesheet href="/static/console.css"></head>'
        f"<body><header><a class=brand href=/customers>Customer console</a></header>{_banner(who)}"
        f"<main><h1>{_e(title)}</h1>{body}</main>"
        "<footer>A demo app protected by smishguard's gateway.</footer></body></html>"
    )
    return _send(start_response, status, document.encode(), "text/html; charset=utf-8")


def _send(
    start_response: StartResponse,
    status: str,
    body: bytes,
    content_type: str,
    extra: list[tuple[str, str]] | None = None,
) -> Iterable[bytes]:
    headers = [("Content-Type", content_type), ("Content-Length", str(len(body))), *SECURITY_HEADERS, *(extra or [])]
    start_response(status, headers)
    return [body]
