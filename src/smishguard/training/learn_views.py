"""The employee's training pages, /learn/: their modules with where they stand, a module, its quiz, the result.

Any signed-in employee may read and take any module that is not archived, assigned or not (an archived one stays
open to those who still have it assigned).  A quiz POST is graded by ``training.quiz``; a refused form (a question
left unanswered, a form this page did not give) is answered 400 with the quiz again and writes nothing.  The result
page is reached by a redirect after the POST; which questions were answered right travels in a signed value of its
URL, because the answers themselves are not kept.
"""

from __future__ import annotations

from django.core import signing
from django.db.models import Max
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from smishguard.accounts.models import Employee
from smishguard.accounts.page_guards import signed_in
from smishguard.training import modules, quiz, rendering, states
from smishguard.training.errors import ModuleNotFound, QuizAnswersMissing, QuizTampered
from smishguard.training.models import Assignment, Attempt, Module, ModuleVersion

_MARKS_SALT = "smishguard.training.quiz.marks"


def _module_for(employee: Employee, slug: str) -> Module:
    """The module ``employee`` may open: not archived, or archived with their assignment still open."""
    module = modules.get(slug)
    if (
        module.archived_at is not None
        and not Assignment.objects.filter(employee=employee, module=module, completed_at__isnull=True).exists()
    ):
        raise ModuleNotFound(f"no training module {slug!r}")
    return module


def _state(employee: Employee, module: Module) -> states.ModuleState | None:
    return next((row for row in states.for_employee(employee) if row.module.pk == module.pk), None)


@require_GET
@signed_in
def index(request: HttpRequest) -> HttpResponse:
    rows = states.for_employee(request.user)
    return render(request, "training/learn_index.html", {"rows": rows, "nav": "learn"})


@require_GET
@signed_in
def module_page(request: HttpRequest, slug: str) -> HttpResponse:
    module = _module_for(request.user, slug)
    version = modules.latest_version(module)
    context = {
        "module": module,
        "version": version,
        "body": rendering.to_html(version.content),
        "row": _state(request.user, module),
        "nav": "learn",
    }
    return render(request, "training/learn_module.html", context)


def _quiz_page(
    request: HttpRequest,
    module: Module,
    version: ModuleVersion,
    *,
    token: str | None = None,
    chosen: dict[int, int] | None = None,
    error: str | None = None,
    flag_missing: bool = False,
    status: int = 200,
) -> HttpResponse:
    chosen = chosen or {}
    questions = [
        {
            "index": i,
            "text": item["question"],
            "missing": flag_missing and i not in chosen,
            "choices": [
                {"index": c, "text": text, "checked": chosen.get(i) == c} for c, text in enumerate(item["choices"])
            ],
        }
        for i, item in enumerate(version.quiz)
    ]
    context = {
        "module": module,
        "version": version,
        "questions": questions,
        "token": token or quiz.start_token(version, request.user),
        "error": error,
        "nav": "learn",
    }
    response = render(request, "training/learn_quiz.html", context, status=status)
    response["Cache-Control"] = "no-store"
    return response


def _chosen(data: dict, count: int) -> dict[int, int]:
    chosen = {}
    for i in range(count):
        value = (data.get(f"q{i}") or "").strip()
        if value.isdigit():
            chosen[i] = int(value)
    return chosen


@require_http_methods(["GET", "POST"])
@signed_in
def quiz_page(request: HttpRequest, slug: str) -> HttpResponse:
    employee = request.user
    module = _module_for(employee, slug)
    if request.method == "GET":
        return _quiz_page(request, module, modules.latest_version(module))
    token = request.POST.get("started", "")
    try:
        version = ModuleVersion.objects.filter(pk=quiz.version_of(token, employee), module=module).first()
        if version is None:
            raise QuizTampered
        graded = quiz.submit(version, employee, request.POST, request=request)
    except QuizAnswersMissing as exc:
        chosen = _chosen(request.POST, len(version.quiz))
        message = exc.message[0].upper() + exc.message[1:] + "."
        return _quiz_page(
            request, module, version, token=token, chosen=chosen, error=message, flag_missing=True, status=400
        )
    except QuizTampered as exc:
        return _quiz_page(request, module, modules.latest_version(module), error=exc.message, status=400)
    marks = "".join("1" if mark else "0" for mark in graded.marks)
    signed = signing.dumps({"a": graded.attempt.pk, "m": marks}, salt=_MARKS_SALT, compress=False)
    url = reverse("learn:result", kwargs={"slug": module.slug, "attempt_id": graded.attempt.pk})
    return redirect(f"{url}?m={signed}")


def _marks(signed: str, attempt: Attempt) -> list[bool] | None:
    try:
        payload = signing.loads(signed, salt=_MARKS_SALT)
    except signing.BadSignature:
        return None
    marks = payload.get("m") if isinstance(payload, dict) and payload.get("a") == attempt.pk else None
    if not isinstance(marks, str) or len(marks) != len(attempt.version.quiz) or set(marks) - {"0", "1"}:
        return None
    return [mark == "1" for mark in marks]


@require_GET
@signed_in
def result(request: HttpRequest, slug: str, attempt_id: int) -> HttpResponse:
    employee = request.user
    attempt = (
        Attempt.objects.select_related("version__module")
        .filter(pk=attempt_id, employee=employee, version__module__slug=slug)
        .first()
    )
    if attempt is None:
        raise ModuleNotFound("no such quiz attempt of yours")
    version = attempt.version
    module = version.module
    marks = _marks(request.GET.get("m", ""), attempt)
    questions = [
        {
            "number": i + 1,
            "text": item["question"],
            "answer": item["choices"][item["answer"]],
            "explanation": item.get("explanation", ""),
            "right": marks[i] if marks is not None else None,
        }
        for i, item in enumerate(version.quiz)
    ]
    mine = Attempt.objects.filter(employee=employee, version__module=module)
    context = {
        "module": module,
        "version": version,
        "attempt": attempt,
        "questions": questions,
        "right": sum(marks) if marks is not None else None,
        "attempts": mine.count(),
        "best": mine.aggregate(best=Max("score"))["best"],
        "counts": version.number >= module.required_version,
        "row": _state(employee, module),
        "nav": "learn",
    }
    return render(request, "training/learn_result.html", context)
