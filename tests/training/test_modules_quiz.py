"""The quiz: validation, its text form in the console, grading, and a submission's attempt (its start time signed
and bounded; a refused form writes nothing)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from smishguard.accounts import services
from smishguard.audit import Action
from smishguard.audit.models import Event
from smishguard.training import compliance, modules, quiz
from smishguard.training.errors import QuizAnswersMissing, QuizInvalid, QuizTampered
from smishguard.training.models import Assignment, Attempt

TWO = [
    {"question": "Q1", "choices": ["a", "b"], "answer": 0, "explanation": "E1"},
    {"question": "Q2", "choices": ["a", "b", "c"], "answer": 2, "explanation": ""},
]


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([], "at least one question"),
        ("not a list", "at least one question"),
        ([{"question": "Q", "choices": [], "answer": 0}], "at least two choices"),
        ([{"question": "Q", "choices": ["only"], "answer": 0}], "at least two choices"),
        ([{"question": "Q", "choices": ["a", "b"], "answer": 2}], "answer must be one of its 2 choices"),
        ([{"question": "Q", "choices": ["a", "b"], "answer": -1}], "answer must be one of its 2 choices"),
        ([{"question": "Q", "choices": ["a", "b"], "answer": True}], "answer must be one of its 2 choices"),
        ([{"question": "Q", "choices": ["a", "b"], "answer": "0"}], "answer must be one of its 2 choices"),
        ([{"question": " ", "choices": ["a", "b"], "answer": 0}], "question 1's text is empty"),
        ([{"question": "Q", "choices": ["a", ""], "answer": 0}], "question 1, choice 2 is empty"),
        ([{"question": "Q", "choices": ["a", 3], "answer": 0}], "question 1, choice 2 must be text"),
        (["Q"], "question 1 is not a question"),
    ],
)
def test_an_invalid_quiz_is_refused_with_a_reason(items, message):
    with pytest.raises(QuizInvalid) as refused:
        quiz.validate(items)
    assert message in refused.value.message


@pytest.mark.parametrize("mark", [0, 101, -5, "abc", "", None, True, 80.5])
def test_a_pass_mark_is_1_to_100(mark):
    with pytest.raises(QuizInvalid, match="from 1 to 100"):
        quiz.validate_pass_mark(mark)


def test_valid_pass_marks():
    assert quiz.validate_pass_mark(1) == 1
    assert quiz.validate_pass_mark(" 100 ") == 100


def test_the_text_form_reads_and_writes_the_same_quiz():
    text = """? Q1
* a
- b
> E1

? Q2
- a
- b
* c
"""
    assert quiz.parse_text(text) == TWO
    assert quiz.parse_text(quiz.to_text(TWO)) == TWO
    assert quiz.to_text(TWO) == text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "at least one question"),
        ("- a\n* b", "line 1: start with a question"),
        ("? Q\nwhat\n* b", "line 2: start it with ?"),
        ("? Q\n* a\n* b", "line 3: a question has one right choice"),
        ("? Q\n- a\n- b", "question 1 has no right choice"),
        ("? Q\n* a", "question 1 needs at least two choices"),
        ("? Q\n", "question 1 needs at least two choices"),
    ],
)
def test_the_text_form_says_what_is_wrong(text, message):
    with pytest.raises(QuizInvalid) as refused:
        quiz.parse_text(text)
    assert message in refused.value.message


@pytest.mark.parametrize(
    ("answers", "percent", "marks"),
    [([0, 2], 100, [True, True]), ([0, 1], 50, [True, False]), ([1, 0], 0, [False, False])],
)
def test_score_is_the_percent_right(answers, percent, marks):
    assert quiz.score(TWO, answers) == (percent, marks)


def test_score_rounds_down():
    six = [{"question": f"Q{i}", "choices": ["a", "b"], "answer": 0, "explanation": ""} for i in range(6)]
    assert quiz.score(six, [0, 0, 0, 0, 1, 1])[0] == 66  # 4 of 6: never 67
    assert quiz.score(six, [0, 0, 0, 0, 0, 1])[0] == 83


# --- submissions ------------------------------------------------------------------------------------------------


@pytest.fixture
def module(db):
    return modules.create(slug="drill", title="Drill", content="Read me.", quiz_items=TWO, pass_mark=100)


@pytest.fixture
def person(db):
    return services.add_employee(email="pat@example.com", name="Pat Person", department="Ops")


def _form(version, person, answers, **extra):
    data = {"started": quiz.start_token(version, person)}
    data.update({f"q{i}": str(a) for i, a in enumerate(answers)})
    data.update(extra)
    return data


def test_a_pass_records_the_attempt_and_completes_the_assignment(module, person):
    version = modules.latest_version(module)
    compliance.assign(person, module, due_at=timezone.now() + timedelta(days=7), assigned_by="test")
    opened = timezone.now().replace(microsecond=0)  # the signed start time is in whole seconds
    with time_machine.travel(opened, tick=False):
        form = _form(version, person, [0, 2])
    with time_machine.travel(opened + timedelta(minutes=4), tick=False):
        graded = quiz.submit(version, person, form)
    attempt = graded.attempt
    assert (attempt.score, attempt.passed, graded.marks) == (100, True, (True, True))
    assert attempt.submitted_at - attempt.started_at == timedelta(minutes=4)
    assignment = Assignment.objects.get(employee=person, module=module)
    assert assignment.completed_attempt_id == attempt.pk
    assert compliance.is_current(person, module)
    assert Event.objects.filter(action=Action.TRAINING_COMPLETED, subject=person).count() == 1
    assert not Event.objects.filter(action=Action.TRAINING_QUIZ_FAILED).exists()


def test_a_fail_records_the_attempt_and_is_audited(module, person):
    version = modules.latest_version(module)
    graded = quiz.submit(version, person, _form(version, person, [0, 1]))
    assert (graded.attempt.score, graded.attempt.passed, graded.marks) == (50, False, (True, False))
    event = Event.objects.get(action=Action.TRAINING_QUIZ_FAILED)
    assert event.subject == person
    assert event.detail == {"module": "drill", "version": 1, "score": 50, "pass_mark": 100}
    assert not compliance.is_current(person, module)


def test_the_start_time_is_bounded(module, person):
    version = modules.latest_version(module)
    now = timezone.now()
    with time_machine.travel(now - timedelta(days=3), tick=False):
        old = quiz.start_token(version, person)
    with time_machine.travel(now + timedelta(hours=1), tick=False):
        ahead = quiz.start_token(version, person)
    assert quiz.started_at(old, person, now=now) == now - quiz.MAX_QUIZ_TIME
    assert quiz.started_at(ahead, person, now=now) == now


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"q1": ""}, QuizAnswersMissing),
        ({"q0": "7"}, QuizTampered),
        ({"q0": "-1"}, QuizTampered),
        ({"q0": "zero"}, QuizTampered),
        ({"started": ""}, QuizTampered),
        ({"started": "forged:token"}, QuizTampered),
    ],
)
def test_a_refused_form_writes_nothing(module, person, change, error):
    version = modules.latest_version(module)
    form = _form(version, person, [0, 2])
    form.update(change)
    before = Event.objects.count()
    with pytest.raises(error):
        quiz.submit(version, person, form)
    assert not Attempt.objects.exists()
    assert Event.objects.count() == before


def test_another_employees_or_another_versions_form_is_refused(module, person):
    version = modules.latest_version(module)
    other = services.add_employee(email="oli@example.com", name="Oli Other")
    with pytest.raises(QuizTampered):
        quiz.submit(version, person, _form(version, other, [0, 2]))
    newer = modules.edit(module, title="Drill", content="Read me again.", quiz_items=TWO, pass_mark=100)
    with pytest.raises(QuizTampered):
        quiz.submit(newer, person, _form(version, person, [0, 2]))
    assert not Attempt.objects.exists()
