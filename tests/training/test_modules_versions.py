"""Modules and their versions: each edit a new version, earlier ones never changed; "requires everyone again"
raises the required version and re-opens the assignments; archiving; every change audited; the bundled module."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from smishguard.accounts import services
from smishguard.accounts.models import Employee
from smishguard.audit import Action
from smishguard.audit.models import Event
from smishguard.training import compliance, modules, quiz, rendering
from smishguard.training.errors import (
    ModuleArchived,
    ModuleInvalid,
    ModuleNotFound,
    ModuleSlugTaken,
    ModuleUnchanged,
    QuizInvalid,
)
from smishguard.training.models import Assignment, Attempt, Module, ModuleVersion

pytestmark = pytest.mark.django_db

QUIZ = [{"question": "Q", "choices": ["right", "wrong"], "answer": 0, "explanation": "Because."}]


def _pass(person: Employee, version: ModuleVersion) -> Attempt:
    form = {"started": quiz.start_token(version, person), "q0": "0"}
    return quiz.submit(version, person, form).attempt


@pytest.fixture
def module():
    return modules.create(slug="phones", title="Phones", content="# Hi\n\nRead.", quiz_items=QUIZ, pass_mark=100)


def test_create_makes_version_one_and_is_audited(module):
    version = modules.latest_version(module)
    assert (module.slug, module.title, module.required_version) == ("phones", "Phones", 1)
    assert (version.number, version.title, version.content, version.quiz, version.pass_mark) == (
        1,
        "Phones",
        "# Hi\n\nRead.\n",
        QUIZ,
        100,
    )
    event = Event.objects.get(action=Action.TRAINING_MODULE_CREATED)
    assert event.detail == {"module": "phones", "version": 1, "title": "Phones"}
    assert event.subject_label == "module:phones"


@pytest.mark.parametrize(
    ("fields", "error", "message"),
    [
        ({"slug": "Bad slug!"}, ModuleInvalid, "short name"),
        ({"slug": ""}, ModuleInvalid, "short name"),
        ({"title": "  "}, ModuleInvalid, "title"),
        ({"content": ""}, ModuleInvalid, "no content"),
        ({"quiz_items": []}, QuizInvalid, "at least one question"),
        ({"quiz_items": [{"question": "Q", "choices": ["a"], "answer": 0}]}, QuizInvalid, "two choices"),
        ({"quiz_items": [{"question": "Q", "choices": ["a", "b"], "answer": 5}]}, QuizInvalid, "answer"),
        ({"pass_mark": 0}, QuizInvalid, "pass mark"),
        ({"slug": "smishing"}, ModuleSlugTaken, "exists already"),  # the bundled module's
    ],
)
def test_create_refuses_bad_input_and_writes_nothing(fields, error, message):
    values = {"slug": "new", "title": "New", "content": "Text", "quiz_items": QUIZ, "pass_mark": 80} | fields
    modules_before, events_before = Module.objects.count(), Event.objects.count()
    with pytest.raises(error) as refused:
        modules.create(**values)
    assert message in refused.value.message
    assert (Module.objects.count(), Event.objects.count()) == (modules_before, events_before)


def test_an_edit_is_a_new_version_and_earlier_passes_still_count(module):
    person = services.add_employee(email="pat@example.com", name="Pat")
    v1 = modules.latest_version(module)
    _pass(person, v1)
    v2 = modules.edit(module, title="Phones, again", content="New text", quiz_items=QUIZ, pass_mark=100)
    assert v2.number == 2
    v1.refresh_from_db()
    assert (v1.title, v1.content) == ("Phones", "# Hi\n\nRead.\n")  # the attempted version is never changed
    module.refresh_from_db()
    assert (module.title, module.required_version) == ("Phones, again", 1)
    assert compliance.is_current(person, module)
    event = Event.objects.get(action=Action.TRAINING_MODULE_VERSIONED)
    assert event.detail == {
        "module": "phones",
        "version": 2,
        "requires_everyone_again": False,
        "assignments_reopened": 0,
    }


def test_an_edit_that_changes_nothing_makes_no_version(module):
    with pytest.raises(ModuleUnchanged):
        modules.edit(module, title="Phones", content="# Hi\n\nRead.", quiz_items=QUIZ, pass_mark="100")
    assert module.versions.count() == 1


def test_requiring_everyone_again_reopens_the_assignments(module):
    now = timezone.now()
    done = services.add_employee(email="done@example.com", name="Done")
    pending = services.add_employee(email="pending@example.com", name="Pending")
    gone = services.add_employee(email="gone@example.com", name="Gone")
    never = services.add_employee(email="never@example.com", name="Never assigned")
    for person in (done, pending, gone):
        compliance.assign(person, module, due_at=now + timedelta(days=5), assigned_by="test")
    _pass(done, modules.latest_version(module))
    _pass(gone, modules.latest_version(module))
    Employee.objects.filter(pk=gone.pk).update(status=Employee.Status.OFFBOARDED)
    _pass(never, modules.latest_version(module))
    assert Assignment.objects.get(employee=done).completed_at is not None

    due = now + timedelta(days=20)
    v2 = modules.edit(
        module,
        title="Phones",
        content="Changed",
        quiz_items=QUIZ,
        pass_mark=100,
        requires_everyone_again=True,
        due_at=due,
    )
    module.refresh_from_db()
    assert (module.required_version, v2.requires_everyone_again) == (2, True)
    reopened = Assignment.objects.get(employee=done)
    assert (reopened.completed_at, reopened.due_at, reopened.source) == (None, due, Assignment.Source.NEW_VERSION)
    kept = Assignment.objects.get(employee=pending)
    assert kept.completed_at is None
    assert kept.due_at == now + timedelta(days=5)  # an open one keeps its earlier date
    assert Assignment.objects.get(employee=gone).completed_at is not None  # offboarded: left alone
    assert not Assignment.objects.filter(employee=never).exists()  # never assigned: not assigned now
    for person in (done, pending, never):
        assert not compliance.is_current(person, module)
    assert Event.objects.get(action=Action.TRAINING_MODULE_VERSIONED).detail["assignments_reopened"] == 2

    _pass(done, v2)
    assert compliance.is_current(done, module)
    assert Assignment.objects.get(employee=done).completed_at is not None


def test_a_pass_of_an_older_version_does_not_count_after_a_required_one(module):
    person = services.add_employee(email="late@example.com", name="Late")
    v1 = modules.latest_version(module)
    token = quiz.start_token(v1, person)  # the quiz page opened before the new version
    modules.edit(module, title="Phones", content="v2", quiz_items=QUIZ, pass_mark=100, requires_everyone_again=True)
    attempt = quiz.submit(v1, person, {"started": token, "q0": "0"}).attempt
    assert attempt.passed
    assert not compliance.is_current(person, Module.objects.get(pk=module.pk))


def test_archive_is_audited_and_stops_edits(module):
    modules.archive(module)
    assert module.archived_at is not None
    assert Event.objects.filter(action=Action.TRAINING_MODULE_ARCHIVED).count() == 1
    with pytest.raises(ModuleArchived):
        modules.edit(module, title="x", content="y", quiz_items=QUIZ, pass_mark=50)
    with pytest.raises(ModuleArchived):
        modules.archive(module)
    assert module.versions.count() == 1


def test_get_names_a_missing_module():
    with pytest.raises(ModuleNotFound, match="nope"):
        modules.get("nope")


# --- the bundled module ------------------------------------------------------------------------------------------

CONTENT = Path(modules.__file__).parent / "content" / "smishing"


def test_the_bundled_module_is_installed_from_its_files():
    module = modules.get("smishing")
    version = modules.latest_version(module)
    meta = json.loads((CONTENT / "module.json").read_text(encoding="utf-8"))
    assert (module.title, version.number, version.pass_mark) == (meta["title"], 1, 80)
    assert version.content == (CONTENT / "module.md").read_text(encoding="utf-8")
    assert quiz.validate(version.quiz) == version.quiz
    assert 5 <= len(version.quiz) <= 6
    assert all(item["explanation"] for item in version.quiz)


def test_the_bundled_module_tells_the_story_and_renders_safely():
    html = str(rendering.to_html(modules.latest_version(modules.get("smishing")).content))
    for words in ("twilio-sso.com", "twilio-okta.com", "Cloudflare", "FIDO2", "reporting number", "Report a text"):
        assert words in html
    assert "<h2>" in html
    assert "<h1" not in html
