"""A module's quiz: its validation, the console's plain-text form of it, and grading a submission.

A quiz is stored on its ``ModuleVersion`` as JSON: ``[{"question": str, "choices": [str, ...], "answer": int,
"explanation": str}, ...]`` (``answer`` indexes ``choices``).  Valid means: one question or more, each with two
choices or more, its answer one of them, and a pass mark from 1 to 100 (percent).

The console edits a quiz as text (docs/training.md, "Modules and quizzes")::

    ? What should you do with a text that asks for a sign-in code?
    - Reply with the code if the text names our IT team
    * Forward it to the reporting number, then delete it
    - Ignore it
    > Nobody at the company ever asks for a code by text.

``?`` starts a question, ``-`` is a wrong choice, ``*`` the right one (exactly one per question), ``>`` a line of
the explanation shown after the quiz; blank lines are ignored.

Grading: the score is the percent of questions answered right, rounded down (4 of 6 is 66, never 67); the attempt
passes when the score is at least the pass mark.  The time the quiz was started comes from a signed value the quiz
page put in the form (the version, the employee, the time), checked and bounded: never before
``MAX_QUIZ_TIME`` ago, never in the future.  Each submission is an ``Attempt`` (the answers themselves are not
kept); a failed one is audited, a passed one closes the employee's assignment (``compliance.complete``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core import signing
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from smishguard.accounts.models import Employee
from smishguard.audit import Action, record
from smishguard.training import compliance
from smishguard.training.errors import QuizAnswersMissing, QuizInvalid, QuizTampered
from smishguard.training.models import Attempt, ModuleVersion

MAX_QUESTIONS = 50
MAX_CHOICES = 10
MAX_TEXT = 2000  # characters in a question, a choice or an explanation
MAX_QUIZ_TIME = timedelta(hours=24)  # the earliest a submission's start time may be
_SALT = "smishguard.training.quiz.started"


# --- validation ---------------------------------------------------------------------------------------------------


def _text(value: object, what: str, *, required: bool = True) -> str:
    if not isinstance(value, str):
        raise QuizInvalid(f"{what} must be text")
    value = value.strip()
    if required and not value:
        raise QuizInvalid(f"{what} is empty")
    if len(value) > MAX_TEXT:
        raise QuizInvalid(f"{what} is longer than {MAX_TEXT} characters")
    return value


def validate_pass_mark(pass_mark: object) -> int:
    if isinstance(pass_mark, str) and pass_mark.strip().isdigit():
        pass_mark = int(pass_mark.strip())
    if isinstance(pass_mark, bool) or not isinstance(pass_mark, int) or not 1 <= pass_mark <= 100:
        raise QuizInvalid("the pass mark must be a whole number of percent from 1 to 100")
    return pass_mark


def validate(quiz: object) -> list[dict[str, Any]]:
    """``quiz`` as it is stored (texts stripped), or ``QuizInvalid`` naming the first thing wrong."""
    if not isinstance(quiz, list) or not quiz:
        raise QuizInvalid("a quiz needs at least one question")
    if len(quiz) > MAX_QUESTIONS:
        raise QuizInvalid(f"a quiz has at most {MAX_QUESTIONS} questions")
    clean: list[dict[str, Any]] = []
    for number, item in enumerate(quiz, start=1):
        where = f"question {number}"
        if not isinstance(item, dict):
            raise QuizInvalid(f"{where} is not a question")
        question = _text(item.get("question"), f"{where}'s text")
        choices = item.get("choices")
        if not isinstance(choices, list) or len(choices) < 2:
            raise QuizInvalid(f"{where} needs at least two choices")
        if len(choices) > MAX_CHOICES:
            raise QuizInvalid(f"{where} has more than {MAX_CHOICES} choices")
        choices = [_text(choice, f"{where}, choice {i}") for i, choice in enumerate(choices, start=1)]
        answer = item.get("answer")
        if isinstance(answer, bool) or not isinstance(answer, int) or not 0 <= answer < len(choices):
            raise QuizInvalid(f"{where}'s answer must be one of its {len(choices)} choices")
        explanation = _text(item.get("explanation", ""), f"{where}'s explanation", required=False)
        clean.append({"question": question, "choices": choices, "answer": answer, "explanation": explanation})
    return clean


# --- the console's text form ------------------------------------------------------------------------------------


def parse_text(text: str) -> list[dict[str, Any]]:
    """The console's text form of a quiz (this module's docstring) as the stored list, validated."""
    quiz: list[dict[str, Any]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        marker, rest = line[0], line[1:].strip()
        if marker == "?":
            quiz.append({"question": rest, "choices": [], "answer": None, "explanation": ""})
            continue
        if marker not in "-*>":
            raise QuizInvalid(f"line {number}: start it with ? (a question), - or * (a choice) or > (an explanation)")
        if not quiz:
            raise QuizInvalid(f"line {number}: start with a question (a line that begins with ?)")
        current = quiz[-1]
        if marker == ">":
            current["explanation"] = f"{current['explanation']} {rest}".strip()
            continue
        if marker == "*":
            if current["answer"] is not None:
                raise QuizInvalid(f"line {number}: a question has one right choice (*): make the others -")
            current["answer"] = len(current["choices"])
        current["choices"].append(rest)
    for number, item in enumerate(quiz, start=1):
        if item["answer"] is None and len(item["choices"]) >= 2:
            raise QuizInvalid(f"question {number} has no right choice: mark it with * instead of -")
    return validate(quiz)


def to_text(quiz: list[dict[str, Any]]) -> str:
    """The stored list in the console's text form (``parse_text`` reads it back the same)."""
    blocks = []
    for item in quiz:
        lines = [f"? {item['question']}"]
        lines += [f"{'*' if i == item['answer'] else '-'} {choice}" for i, choice in enumerate(item["choices"])]
        if item.get("explanation"):
            lines.append(f"> {item['explanation']}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + ("\n" if blocks else "")


# --- taking the quiz ----------------------------------------------------------------------------------------------


def start_token(version: ModuleVersion, employee: Employee, *, now: datetime | None = None) -> str:
    """The signed value the quiz page puts in its form: which version, whose, and when it was opened."""
    now = now or timezone.now()
    return signing.dumps({"v": version.pk, "e": employee.pk, "t": int(now.timestamp())}, salt=_SALT, compress=False)


def version_of(token: str, employee: Employee) -> int:
    """The version id in a quiz form's signed value, if it is this employee's; else ``QuizTampered``."""
    return _payload(token, employee)["v"]


def _payload(token: str, employee: Employee) -> dict[str, int]:
    try:
        payload = signing.loads(token or "", salt=_SALT)
    except signing.BadSignature as exc:
        raise QuizTampered from exc
    if (
        not isinstance(payload, dict)
        or payload.get("e") != employee.pk
        or not all(isinstance(payload.get(key), int) and not isinstance(payload.get(key), bool) for key in "vet")
    ):
        raise QuizTampered
    return payload


def started_at(token: str, employee: Employee, *, now: datetime) -> datetime:
    """When the quiz page was opened, bounded to the last ``MAX_QUIZ_TIME`` (a page left open for days, or a
    clock that ran ahead, cannot stretch or shrink the time an attempt took past it)."""
    opened = datetime.fromtimestamp(_payload(token, employee)["t"], tz=UTC)
    return min(max(opened, now - MAX_QUIZ_TIME), now)


def read_answers(quiz: list[dict[str, Any]], data: Mapping[str, str]) -> list[int]:
    """The chosen choice of each question from the form (fields ``q0``, ``q1``...)."""
    answers: list[int] = []
    missing = 0
    for i, item in enumerate(quiz):
        value = (data.get(f"q{i}") or "").strip()
        if not value:
            missing += 1
            answers.append(-1)
            continue
        if not value.isdigit() or int(value) >= len(item["choices"]):
            raise QuizTampered
        answers.append(int(value))
    if missing:
        raise QuizAnswersMissing(
            f"answer every question, then submit ({missing} question{'s' if missing != 1 else ''} left)"
        )
    return answers


def score(quiz: list[dict[str, Any]], answers: list[int]) -> tuple[int, list[bool]]:
    """The percent right (rounded down) and, per question, whether it was right."""
    marks = [answer == item["answer"] for item, answer in zip(quiz, answers, strict=True)]
    return (100 * sum(marks)) // len(marks), marks


@dataclass(frozen=True)
class Graded:
    attempt: Attempt
    marks: tuple[bool, ...]  # per question: answered right


def submit(
    version: ModuleVersion, employee: Employee, data: Mapping[str, str], *, request: HttpRequest | None = None
) -> Graded:
    """Grade a quiz form for ``employee`` and record the attempt; nothing is written when the form is refused."""
    now = timezone.now()
    token = data.get("started") or ""
    if version_of(token, employee) != version.pk:
        raise QuizTampered
    opened = started_at(token, employee, now=now)
    percent, marks = score(version.quiz, read_answers(version.quiz, data))
    passed = percent >= version.pass_mark
    with transaction.atomic():
        attempt = Attempt.objects.create(
            employee=employee, version=version, started_at=opened, submitted_at=now, score=percent, passed=passed
        )
        if passed:
            compliance.complete(attempt)
        else:
            record(
                Action.TRAINING_QUIZ_FAILED,
                request=request,
                actor=employee,
                subject=employee,
                module=version.module.slug,
                version=version.number,
                score=percent,
                pass_mark=version.pass_mark,
            )
    return Graded(attempt, tuple(marks))
