"""The console's module editor, /console/training/: admins only; create, preview, edit (a new version, "require
everyone again"), archive; bad input is a form error (4xx) that writes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from page_fixtures import sign_in_new as sign_in

from smishguard.accounts import services
from smishguard.audit import Action
from smishguard.audit.models import Event
from smishguard.training import compliance, modules, quiz
from smishguard.training.models import Assignment, Module, ModuleVersion

pytestmark = pytest.mark.django_db

QUIZ_TEXT = """? Who asks for codes by text?
- Our IT team
* Nobody at the company
> Nobody ever does.

? What do you do with a suspicious text?
* Forward it to the reporting number
- Tap the link
"""

NEW = {
    "slug": "codes",
    "title": "Codes",
    "content": "## Codes\n\nNever share one.",
    "quiz": QUIZ_TEXT,
    "pass_mark": "80",
}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/console/training/"),
        ("get", "/console/training/modules/new"),
        ("post", "/console/training/modules/new"),
        ("get", "/console/training/modules/smishing/"),
        ("get", "/console/training/modules/smishing/edit"),
        ("post", "/console/training/modules/smishing/edit"),
        ("get", "/console/training/modules/smishing/preview"),
        ("post", "/console/training/modules/smishing/archive"),
    ],
)
def test_pages_are_for_admins_only(client, method, path):
    assert getattr(client, method)(path, NEW if method == "post" else None).status_code == 302
    sign_in(client, admin=False, email="emp@example.com")
    assert getattr(client, method)(path, NEW if method == "post" else None).status_code == 403
    assert not Module.objects.filter(slug="codes").exists()
    assert modules.get("smishing").archived_at is None
    assert ModuleVersion.objects.filter(module__slug="smishing").count() == 1


def test_the_list_shows_version_and_how_many_are_current(client):
    sign_in(client)
    person = services.add_employee(email="pat@example.com", name="Pat")
    version = modules.latest_version(modules.get("smishing"))
    answers = {f"q{i}": str(item["answer"]) for i, item in enumerate(version.quiz)}
    quiz.submit(version, person, {"started": quiz.start_token(version, person), **answers})
    page = client.get("/console/training/").content.decode()
    assert 'data-module="smishing"' in page
    assert "data-current>1</td>" in page
    assert '<a href="/console/training/" aria-current="page">Modules</a>' in page


def test_create_preview_edit_and_archive(client):
    admin = sign_in(client)
    preview = client.post("/console/training/modules/new", NEW | {"action": "preview"})
    assert preview.status_code == 200
    assert "<h2>Codes</h2>" in preview.content.decode()
    assert "Nobody ever does." in preview.content.decode()
    assert not Module.objects.filter(slug="codes").exists()  # a preview saves nothing

    response = client.post("/console/training/modules/new", NEW | {"action": "save"})
    assert response.status_code == 302
    assert response["Location"] == "/console/training/modules/codes/"
    module = modules.get("codes")
    version = modules.latest_version(module)
    assert version.quiz[0] == {
        "question": "Who asks for codes by text?",
        "choices": ["Our IT team", "Nobody at the company"],
        "answer": 1,
        "explanation": "Nobody ever does.",
    }
    assert Event.objects.get(action=Action.TRAINING_MODULE_CREATED).actor == admin

    edit_page = client.get("/console/training/modules/codes/edit").content.decode()
    assert "* Nobody at the company" in edit_page  # the quiz in its text form
    assert "Saving makes version 2" in edit_page

    person = services.add_employee(email="pat@example.com", name="Pat")
    compliance.assign(person, module, due_at=timezone.now() + timedelta(days=3), assigned_by="t")
    answers = {"q0": "1", "q1": "0"}
    quiz.submit(version, person, {"started": quiz.start_token(version, person), **answers})
    assert Assignment.objects.get(employee=person).completed_at is not None

    due = (timezone.now() + timedelta(days=10)).date()
    response = client.post(
        "/console/training/modules/codes/edit",
        NEW | {"content": "Changed.", "requires_everyone_again": "on", "due": due.isoformat(), "action": "save"},
    )
    assert response.status_code == 302
    module.refresh_from_db()
    assert module.required_version == 2
    assignment = Assignment.objects.get(employee=person)
    assert assignment.completed_at is None
    assert assignment.due_at.date() == due + timedelta(days=1)  # the end of that day (midnight after it, UTC)
    detail = client.get("/console/training/modules/codes/").content.decode()
    assert 'data-version="2"' in detail
    assert "required everyone again" in detail
    assert '<p class="stat-value" data-current>0</p>' in detail

    assert "<p>Changed.</p>" in client.get("/console/training/modules/codes/preview").content.decode()

    response = client.post("/console/training/modules/codes/archive")
    assert response.status_code == 302
    module.refresh_from_db()
    assert module.archived_at is not None
    assert client.get("/console/training/modules/codes/edit").status_code == 409
    assert client.post("/console/training/modules/codes/edit", NEW | {"action": "save"}).status_code == 409
    response = client.post("/console/training/modules/codes/archive", HTTP_REFERER="/console/training/")
    assert response.status_code == 302  # flashed: archived already
    actions = set(Event.objects.filter(action__startswith="training:module").values_list("action", flat=True))
    assert actions == {
        Action.TRAINING_MODULE_CREATED,
        Action.TRAINING_MODULE_VERSIONED,
        Action.TRAINING_MODULE_ARCHIVED,
    }


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        ({"quiz": "? Q\n"}, 400, "Question 1 needs at least two choices."),
        ({"quiz": "? Q\n- a\n- b"}, 400, "Question 1 has no right choice"),
        ({"quiz": ""}, 400, "A quiz needs at least one question."),
        ({"quiz": "? Q\n* a\n* b"}, 400, "a question has one right choice"),
        ({"pass_mark": "0"}, 400, "from 1 to 100"),
        ({"pass_mark": "abc"}, 400, "from 1 to 100"),
        ({"slug": "no spaces"}, 400, "short name"),
        ({"slug": "smishing"}, 409, "exists already"),
        ({"title": ""}, 400, "Give the module a title."),
        ({"content": "   "}, 400, "no content"),
    ],
)
def test_bad_input_is_a_form_error_and_writes_nothing(client, change, status, message):
    sign_in(client)
    modules_before, versions_before, events_before = (
        Module.objects.count(),
        ModuleVersion.objects.count(),
        Event.objects.count(),
    )
    response = client.post("/console/training/modules/new", NEW | change | {"action": "save"})
    assert response.status_code == status
    page = response.content.decode()
    assert "data-form-error" in page
    assert message in page
    assert 'value="Codes"' in page or change.get("title") == ""  # the form keeps what was typed
    assert (Module.objects.count(), ModuleVersion.objects.count(), Event.objects.count()) == (
        modules_before,
        versions_before,
        events_before,
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"quiz": "? Q\n* only"}, "Question 1 needs at least two choices."),
        ({"due": "someday", "requires_everyone_again": "on"}, "The due date must be a date (YYYY-MM-DD)."),
        ({"due": "2000-01-01", "requires_everyone_again": "on"}, "The due date must be today or later."),
        ({}, "Nothing changed"),
    ],
)
def test_a_bad_edit_writes_nothing(client, change, message):
    sign_in(client)
    latest = modules.latest_version(modules.get("smishing"))
    form = {
        "title": latest.title,
        "content": latest.content,
        "quiz": quiz.to_text(latest.quiz),
        "pass_mark": str(latest.pass_mark),
        "action": "save",
    } | change
    events = Event.objects.count()
    response = client.post("/console/training/modules/smishing/edit", form)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert ModuleVersion.objects.filter(module__slug="smishing").count() == 1
    assert modules.get("smishing").required_version == 1
    assert Event.objects.count() == events


def test_a_missing_module_is_a_404(client):
    sign_in(client)
    assert client.get("/console/training/modules/nope/").status_code == 404
    assert client.get("/console/training/modules/nope/edit").status_code == 404
