"""The employee's pages, /learn/: the list with their state, a module, its quiz and the result; a signed-in
employee takes the bundled module and passes, or fails and retries; a refused form is a 400 that writes nothing."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from page_fixtures import signed_in_client

from smishguard.accounts import nav, services
from smishguard.audit import Action
from smishguard.audit.models import Event
from smishguard.training import compliance, hooks, modules
from smishguard.training.models import Assignment, Attempt

pytestmark = pytest.mark.django_db


@pytest.fixture
def person():
    return services.add_employee(email="pat@example.com", name="Pat Person", department="Ops")


@pytest.fixture
def browser(person):
    return signed_in_client(person)


def _quiz_form(client, slug="smishing"):
    page = client.get(f"/learn/{slug}/quiz")
    assert page.status_code == 200
    html = page.content.decode()
    token = re.search(r'name="started" value="([^"]+)"', html).group(1)
    return html, token


def _answers(slug="smishing", wrong=0):
    version = modules.latest_version(modules.get(slug))
    answers = {}
    for i, item in enumerate(version.quiz):
        right = item["answer"]
        answers[f"q{i}"] = str((right + 1) % len(item["choices"]) if i < wrong else right)
    return answers


def test_pages_need_a_signed_in_employee(client):
    for path in ("/learn/", "/learn/smishing/", "/learn/smishing/quiz"):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/signin")


def test_the_list_shows_each_modules_state(browser, person):
    page = browser.get("/learn/").content.decode()
    assert 'data-module="smishing"' in page
    assert 'data-state="not_assigned"' in page
    compliance.assign(person, modules.get("smishing"), due_at=timezone.now() + timedelta(days=2), assigned_by="t")
    assert 'data-state="due_soon"' in browser.get("/learn/").content.decode()
    Assignment.objects.filter(employee=person).update(due_at=timezone.now() - timedelta(hours=1))
    assert 'data-state="overdue"' in browser.get("/learn/").content.decode()
    Assignment.objects.filter(employee=person).update(due_at=timezone.now() + timedelta(days=60))
    assert 'data-state="assigned"' in browser.get("/learn/").content.decode()


def test_the_module_page_renders_the_content(browser):
    page = browser.get("/learn/smishing/").content.decode()
    assert "<h2>What happened in August 2022</h2>" in page
    assert "<code>twilio-sso.com</code>" in page
    assert 'href="/learn/smishing/quiz"' in page


def test_an_employee_takes_the_module_and_passes(browser, person):
    compliance.assign(person, modules.get("smishing"), due_at=timezone.now() + timedelta(days=2), assigned_by="t")
    html, token = _quiz_form(browser)
    assert html.count('type="radio"') == sum(
        len(q["choices"]) for q in modules.latest_version(modules.get("smishing")).quiz
    )
    assert 'name="csrfmiddlewaretoken"' in html
    response = browser.post("/learn/smishing/quiz", {"started": token, **_answers()})
    assert response.status_code == 302
    result = browser.get(response["Location"])
    page = result.content.decode()
    assert 'data-result="passed"' in page
    assert "You passed with 100%" in page
    assert "You are current on this module" in page
    assert page.count('data-right="yes"') == 6
    assert "A one-time code does not know which page it is typed into" in page
    assert Assignment.objects.get(employee=person).completed_at is not None
    assert 'data-state="current"' in browser.get("/learn/").content.decode()
    assert Event.objects.filter(action=Action.TRAINING_COMPLETED, subject=person).count() == 1


def test_an_employee_fails_then_retries(browser, person):
    _, token = _quiz_form(browser)
    response = browser.post("/learn/smishing/quiz", {"started": token, **_answers(wrong=2)})  # 4 of 6: 66%
    page = browser.get(response["Location"]).content.decode()
    assert 'data-result="failed"' in page
    assert "You scored 66%; the pass mark is 80%" in page
    assert page.count('data-right="no"') == 2
    assert 'href="/learn/smishing/quiz"' in page  # try again
    assert Event.objects.filter(action=Action.TRAINING_QUIZ_FAILED, subject=person).count() == 1

    _, token = _quiz_form(browser)
    response = browser.post("/learn/smishing/quiz", {"started": token, **_answers(wrong=1)})  # 5 of 6: 83%
    page = browser.get(response["Location"]).content.decode()
    assert 'data-result="passed"' in page
    assert "Your attempts so far</dt><dd>2 (best 83%)" in page
    assert list(Attempt.objects.filter(employee=person).values_list("score", "passed").order_by("id")) == [
        (66, False),
        (83, True),
    ]


def test_a_result_is_only_its_employees(browser, person):
    _, token = _quiz_form(browser)
    location = browser.post("/learn/smishing/quiz", {"started": token, **_answers()})["Location"]
    other = signed_in_client(services.add_employee(email="oli@example.com", name="Oli"))
    assert other.get(location).status_code == 404
    # Without (or with a forged) signed list of marks the page still shows the score and the explanations.
    bare = browser.get(location.split("?")[0]).content.decode()
    assert 'data-result="passed"' in bare
    assert "data-right" not in bare
    assert "data-right" not in browser.get(location.split("?")[0] + "?m=forged").content.decode()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"q5": ""}, "Answer every question, then submit (1 question left)."),
        ({"q0": "9"}, "The quiz form was not the one this page gave"),
        ({"q0": "x"}, "The quiz form was not the one this page gave"),
        ({"started": "tampered"}, "The quiz form was not the one this page gave"),
    ],
)
def test_a_bad_form_is_a_400_and_writes_nothing(browser, change, message):
    _, token = _quiz_form(browser)
    form = {"started": token, **_answers()} | change
    events = Event.objects.count()
    response = browser.post("/learn/smishing/quiz", form)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Attempt.objects.exists()
    assert Event.objects.count() == events


def test_unanswered_questions_keep_the_answers_given(browser):
    _, token = _quiz_form(browser)
    answers = _answers()
    del answers["q5"]
    page = browser.post("/learn/smishing/quiz", {"started": token, **answers}).content.decode()
    assert page.count(" checked>") == 5
    assert f'value="{token}"' in page  # the same start time
    assert page.count(" data-missing>") == 1  # the unanswered one is marked


def test_an_archived_module_is_gone_unless_still_assigned(browser, person):
    module = modules.create(slug="old", title="Old", content="x", quiz_items=_QUIZ, pass_mark=50)
    modules.archive(module)
    assert browser.get("/learn/old/").status_code == 404
    assert 'data-module="old"' not in browser.get("/learn/").content.decode()
    compliance.assign(person, module, due_at=timezone.now() + timedelta(days=3), assigned_by="t")
    assert browser.get("/learn/old/").status_code == 200
    assert browser.get("/learn/nope/").status_code == 404


_QUIZ = [{"question": "Q", "choices": ["a", "b"], "answer": 0, "explanation": ""}]


def test_menu_entries():
    entries = {e.key: e for e in nav.entries()}
    assert (entries["learn"].section, entries["learn"].admin_only) == (nav.ACCOUNT, False)
    assert (entries["training-modules"].section, entries["training-modules"].admin_only) == (hooks.NAV_SECTION, True)


def test_the_portal_menu_links_to_training(browser):
    page = browser.get("/learn/").content.decode()
    assert '<a href="/learn/" aria-current="page">Training</a>' in page
    assert "/console/training/" not in page


def test_a_quiz_post_without_the_csrf_token_is_refused(person):
    from django.conf import settings
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.cookies[settings.SESSION_COOKIE_NAME] = signed_in_client(person).cookies[settings.SESSION_COOKIE_NAME].value
    html, token = _quiz_form(strict)
    assert 'name="csrfmiddlewaretoken"' in html
    response = strict.post("/learn/smishing/quiz", {"started": token, **_answers()})
    assert response.status_code == 403
    assert not Attempt.objects.exists()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    response = strict.post("/learn/smishing/quiz", {"csrfmiddlewaretoken": csrf, "started": token, **_answers()})
    assert response.status_code == 302
    assert Attempt.objects.filter(employee=person, passed=True).count() == 1
