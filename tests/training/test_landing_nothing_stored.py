"""Nothing typed is stored: a POST to a tracked link records "submitted" and nothing else.

In process: the request's body stream explodes if anything reads it, and the POST still goes through every
middleware of settings.MIDDLEWARE (the CSRF checks enforced, as in production) to the view, which answers 303 to
the lesson with the event, the audit row and the key-touch demand recorded.  Then the secret (characters that each
encoding writes differently), posted as a form, as JSON and as multipart, is searched for in every table and every
log record in its raw, URL-encoded, JSON-escaped and base64 forms.

Against a real ``smishguard serve`` (its own data folder and database, DEBUG logging): the same posts, then the
secret is searched for in the SQLite file and its -wal/-shm (taken while the server runs and after it stops), in a
``pg_dump`` of its database in production mode, in its task rows, in everything it logged, in every file of its
data folder and in the exports the CLI makes (``audit export``; the simulations' ``results`` and ``links`` exports
as soon as they exist: the list is below).
"""

from __future__ import annotations

import http.client
import os
import shutil
import subprocess
from pathlib import Path

import modes
import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from landing_fixtures import (
    BROWSERS,
    SECRET,
    files_under,
    find_secret,
    form_body,
    json_body,
    make_lesson_module,
    make_recipient,
    secret_forms,
)
from servers import Database, clean_env, django_eval, free_port, serve, smishguard, stop, wait_for

from smishguard.accounts import sessions
from smishguard.accounts.models import Session
from smishguard.audit.models import Event
from smishguard.training.models import SimulationEvent

IPHONE = BROWSERS["Safari on iPhone"]
MULTIPART_BOUNDARY = "----drillBoundary7MA4YWxkTrZu0gW"


def multipart_body(secret: str = SECRET) -> bytes:
    return (
        f'--{MULTIPART_BOUNDARY}\r\nContent-Disposition: form-data; name="password"\r\n\r\n{secret}\r\n'
        f'--{MULTIPART_BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{secret}.txt"\r\n'
        f"Content-Type: text/plain\r\n\r\n{secret}\r\n--{MULTIPART_BOUNDARY}--\r\n"
    ).encode()


BODIES = {
    "form": ("application/x-www-form-urlencoded", form_body().encode()),
    "json": ("application/json", json_body().encode()),
    "multipart": (f"multipart/form-data; boundary={MULTIPART_BOUNDARY}", multipart_body()),
}


class UnreadableBody:
    """A WSGI input stream that fails the request if anything reads it."""

    def __init__(self) -> None:
        self.reads = 0

    def _refuse(self, *_args, **_kwargs):
        self.reads += 1
        raise AssertionError("something read the body of a POST to a tracked link")

    read = readline = readlines = __iter__ = _refuse


def test_the_secret_forms_cover_the_encodings() -> None:
    forms = secret_forms()
    assert forms["secret raw"] == SECRET.encode()
    assert forms["secret URL-encoded (form)"] == b"Zq7%21p%C3%A4ssw%C3%B6rd%26%25%2B%2F%3D%F0%9F%98%80"
    assert forms["secret JSON-escaped"] == b"Zq7!p\\u00e4ssw\\u00f6rd&%+/=\\ud83d\\ude00"
    assert forms["secret base64"] == b"WnE3IXDDpHNzd8O2cmQmJSsvPfCfmIA="
    found = find_secret({"a page": "x" + SECRET})
    assert "secret raw in a page" in found
    assert "its start raw in a page" in found
    assert "secret base64 in a log" in find_secret({"a log": b"x" + forms["secret base64"]})
    assert find_secret({"elsewhere": b"nothing here"}) == []


@pytest.mark.django_db
@pytest.mark.parametrize("kind", sorted(BODIES))
def test_a_submit_goes_through_every_middleware_without_its_body_being_read(kind) -> None:
    make_lesson_module()
    recipient = make_recipient()
    _token, session = sessions.create(recipient.employee, request=None)
    browser = Client(enforce_csrf_checks=True, HTTP_USER_AGENT=IPHONE)  # as in production: CSRF enforced
    body = UnreadableBody()
    content_type, data = BODIES[kind]
    response = browser.generic(
        "POST",
        f"/s/{recipient.rid}",
        content_type=content_type,
        **{"wsgi.input": body, "CONTENT_LENGTH": str(len(data))},
    )
    assert body.reads == 0
    assert response.status_code == 303
    assert response.wsgi_request.sensitive_post_parameters == "__ALL__", "an error report would cleanse them all"
    assert response["Location"] == f"/s/{recipient.rid}/lesson"
    recipient.refresh_from_db()
    assert recipient.submitted_at is not None
    assert recipient.clicked_at == recipient.submitted_at, "a submit implies the page was opened"
    kinds = list(SimulationEvent.objects.filter(recipient=recipient).values_list("kind", "via"))
    assert kinds == [("clicked", "browser"), ("submitted", "browser")]
    submitted = Event.objects.get(action="training:simulation:submitted")
    assert submitted.subject_label == recipient.employee.email
    assert set(submitted.detail) == {"simulation", "recipient", "first"}
    demand = Event.objects.get(action="accounts:session:key_touch_demanded")
    assert demand.detail["reason"] == "simulation submit"
    assert Session.objects.get(pk=session.pk).key_touch_required_at is not None
    assert Event.objects.filter(action="training:assignment:created").count() == 1


@pytest.mark.django_db
def test_the_middleware_list_has_not_grown_a_body_reader_before_the_view() -> None:
    """The exploding-body test above runs through whatever settings.MIDDLEWARE holds; this one says what was
    reviewed (each class's source has no request.POST/body/read) so a new middleware is looked at, not assumed."""
    import inspect

    from django.utils.module_loading import import_string

    readers = ("request.POST", "request.body", "request.FILES", "request.read(", "request.readline", "_load_post")
    for dotted in settings.MIDDLEWARE:
        cls = import_string(dotted)
        if dotted == "django.middleware.csrf.CsrfViewMiddleware":
            assert "csrf_exempt" in inspect.getsource(cls), "Django's CSRF check skips csrf_exempt views"
            continue
        if dotted == "smishguard.accounts.throttle.RateLimitMiddleware":
            continue  # reads the JSON body on the sign-in API only: group_for() gives /s/ no group
        source = inspect.getsource(cls)
        assert not [r for r in readers if r in source], f"{dotted} reads a request's body"
    from smishguard.accounts import throttle
    from smishguard.training import landing_views

    assert throttle.group_for(_post("/s/abc")) is None
    view_source = inspect.getsource(landing_views)
    code = view_source.split('"""', 2)[2]  # the module's code, not its docstring (which names what it avoids)
    assert not [r for r in readers if r in code]
    assert getattr(landing_views.tracked_link, "csrf_exempt", False)


def _post(path: str):
    from django.test import RequestFactory

    return RequestFactory().post(path, data=b"", content_type="application/json")


@pytest.mark.django_db
def test_the_secret_is_in_no_table_and_no_log_record(client, caplog) -> None:
    make_lesson_module()
    recipient = make_recipient()
    caplog.set_level("DEBUG")
    assert client.get(f"/s/{recipient.rid}", HTTP_USER_AGENT=IPHONE).status_code == 200
    for content_type, data in BODIES.values():
        response = client.generic("POST", f"/s/{recipient.rid}", data=data, content_type=content_type)
        assert response.status_code == 303
    assert client.get(f"/s/{recipient.rid}/lesson").status_code == 200
    tables = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            tables[f"table {table}"] = "\n".join(repr(row) for row in cursor.fetchall())
    assert "submitted" in tables["table training_simulationevent"]
    assert "training:simulation:submitted" in tables["table audit_event"]
    records = "\n".join(f"{r.name} {r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert find_secret({**tables, "the log records": records}) == []
    assert SimulationEvent.objects.filter(recipient=recipient, kind="submitted").count() == 3
    recipient.refresh_from_db()
    assert recipient.submitted_at is not None


# Every export the CLI makes ({sim}: the simulation's id): the audit trail, a simulation's results and links,
# the compliance status and the xAPI statements (the console's downloads are the same data: results.py, xapi.py).
EXPORTS = (
    ("audit", "export"),
    ("simulations", "results", "{sim}", "--json"),
    ("simulations", "results", "{sim}", "--csv"),
    ("simulations", "links", "{sim}"),
    ("training", "status", "--json"),
    ("training", "xapi"),
)

SETUP = """
from smishguard.accounts import services
from smishguard.accounts.models import Group
from smishguard.training.models import Module, Recipient, Simulation
from django.utils import timezone
person = services.add_employee(email="carl@example.com", name="Carl Support", phone="+14155550103",
                               department="Support", groups=["simulations"])
sim = Simulation.objects.create(name="Drill", template="Hi {first_name}, sign in now at {link}",
                                group=Group.objects.get(name="simulations"), status="running", created_by="t")
assert Module.objects.filter(slug="smishing").exists()  # the bundled module, which a drill assigns
r = Recipient.objects.create(simulation=sim, employee=person, rid="%s", queued_at=timezone.now(),
                             sent_at=timezone.now())
print(sim.pk)
"""


def request(port: int, method: str, path: str, body: bytes = b"", content_type: str = "") -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"User-Agent": IPHONE, "Host": "localhost"}
    if content_type:
        headers["Content-Type"] = content_type
    conn.request(method, path, body=body or None, headers=headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, data


def pg_dump(env: dict[str, str]) -> bytes:
    url = env["SMISHGUARD_MIGRATE_DATABASE_URL"]
    tool = shutil.which("pg_dump")
    assert tool, "pg_dump not found: run scripts/install --test"
    return subprocess.run([tool, "--no-owner", url], capture_output=True, check=True, timeout=120).stdout


def test_a_real_server_keeps_nothing_typed_anywhere(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    env = clean_env(data_dir, SMISHGUARD_LOG_LEVEL="DEBUG", SMISHGUARD_LOG_FORMAT="json")
    smishguard(env, "migrate")
    rid = "drillLinkForTheNothingStoredTest"
    sim = django_eval(env, SETUP % rid).strip()
    port = free_port()
    serve_out = tmp_path / "serve.out"
    server = serve(env, port, log=serve_out)
    places: dict[str, bytes | str] = {}
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz")
        assert request(port, "GET", f"/s/{rid}")[0] == 200
        for kind, (content_type, data) in BODIES.items():
            status, _ = request(port, "POST", f"/s/{rid}", data, content_type)
            assert status == 303, kind
        assert request(port, "GET", f"/s/{rid}/lesson")[0] == 200
        # While the server runs: the SQLite file and its write-ahead log as they are now (in either mode, every
        # file of its data folder).
        places.update({f"{name} (server running)": b for name, b in files_under(data_dir).items()})
    finally:
        stop(server)
    places.update({f"{name} (server stopped)": b for name, b in files_under(data_dir).items()})
    places["smishguard serve's output"] = serve_out.read_bytes()

    with Database(env, owner=True) as db:
        tasks = db.execute("SELECT * FROM django_tasks_database_dbtaskresult").fetchall()
        kinds = sorted(row[0] for row in db.execute("SELECT kind FROM training_simulationevent").fetchall())
        audit_rows = db.execute("SELECT action, detail, user_agent FROM audit_event").fetchall()
    places["the task rows"] = repr(tasks)
    places["the audit rows"] = repr(audit_rows)
    assert kinds == ["clicked", "submitted", "submitted", "submitted"]
    assert any(row[0] == "training:simulation:submitted" for row in audit_rows)

    if modes.POSTGRES:
        dump = pg_dump(env)
        assert b"training_simulationevent" in dump
        assert b"submitted" in dump
        places["pg_dump of the database"] = dump
    else:
        sqlite = [name for name in places if name.endswith(("smishguard.sqlite3 (server running)",))]
        assert sqlite, "the SQLite file was searched while the server ran"
        assert any("-wal" in name for name in places), "and its write-ahead log"

    searched = []
    for argv in EXPORTS:
        result = smishguard(env, *(part.format(sim=sim) for part in argv), check=False)
        assert result.returncode == 0, f"smishguard {' '.join(argv)}: {result.stderr}"
        places[f"smishguard {' '.join(argv)}"] = result.stdout + result.stderr
        searched.append(argv[:2])
    assert len(searched) == len(EXPORTS)
    assert '"submitted"' in places["smishguard training xapi"]  # the submit is in the export: it was searched
    assert "training:simulation:submitted" in str(places["smishguard audit export"])

    log = serve_out.read_text(errors="replace")
    assert "/s/[redacted]/lesson" in log, "the server's requests were logged"
    assert rid not in log, "with the tracked link's rid redacted (smishguard.redaction)"
    assert os.path.getsize(serve_out) > 0
    assert find_secret(places) == []
