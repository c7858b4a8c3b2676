"""Training modules: create one, edit it (each edit a new version), require everyone again, archive it.

Every edit makes a new ``ModuleVersion``; no version is ever changed once saved, so what an employee passed is
always on record as they read it, attempted or not (one rule instead of "in place until someone has tried it").
A new version that *requires everyone again* raises ``Module.required_version`` to its own number: earlier passes
stop counting, and each employee the module was already assigned to (and not offboarded) gets the assignment
opened again through ``compliance.assign(..., source=NEW_VERSION)``, with a new due date.  Without it, passes of
earlier versions still count.  An archived module can no longer be edited or taken.  Each change is audited.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from smishguard.accounts.models import Employee
from smishguard.audit import Action, record
from smishguard.audit.recorder import cli_actor
from smishguard.training import compliance, quiz
from smishguard.training.errors import (
    ModuleArchived,
    ModuleInvalid,
    ModuleNotFound,
    ModuleSlugTaken,
    ModuleUnchanged,
)
from smishguard.training.models import Assignment, Module, ModuleVersion

MAX_CONTENT = 100_000  # characters of Markdown
MAX_TITLE = 200
MAX_SLUG = 80


def get(slug: str) -> Module:
    module = Module.objects.filter(slug=slug).first()
    if module is None:
        raise ModuleNotFound(f"no training module {slug!r}")
    return module


def latest_version(module: Module) -> ModuleVersion:
    """The module's newest version (what staff read and are quizzed on)."""
    return module.versions.order_by("-number").first()


def _who(actor: Employee | None, request: HttpRequest | None) -> str:
    if actor is None and request is not None and getattr(request.user, "is_authenticated", False):
        actor = request.user
    return actor.email if actor is not None else cli_actor()


def _clean(title: str, content: str, quiz_items: object, pass_mark: object) -> dict[str, Any]:
    title = (title or "").strip()
    if not title:
        raise ModuleInvalid("give the module a title")
    if len(title) > MAX_TITLE:
        raise ModuleInvalid(f"the title is longer than {MAX_TITLE} characters")
    content = (content or "").replace("\r\n", "\n").strip()
    if not content:
        raise ModuleInvalid("the module has no content: write what staff should read")
    if len(content) > MAX_CONTENT:
        raise ModuleInvalid(f"the content is longer than {MAX_CONTENT} characters")
    return {
        "title": title,
        "content": content + "\n",
        "quiz": quiz.validate(quiz_items),
        "pass_mark": quiz.validate_pass_mark(pass_mark),
    }


def create(
    *,
    slug: str,
    title: str,
    content: str,
    quiz_items: object,
    pass_mark: object,
    actor: Employee | None = None,
    request: HttpRequest | None = None,
) -> Module:
    """A new module with its first version (audited); nothing is written when anything is invalid."""
    slug = (slug or "").strip().lower()
    try:
        validate_slug(slug)
    except ValidationError as exc:
        raise ModuleInvalid("the short name may hold only letters, digits, - and _ (e.g. smishing)") from exc
    if len(slug) > MAX_SLUG:
        raise ModuleInvalid(f"the short name is longer than {MAX_SLUG} characters")
    fields = _clean(title, content, quiz_items, pass_mark)
    who = _who(actor, request)
    if Module.objects.filter(slug=slug).exists():
        raise ModuleSlugTaken(f"a module named {slug!r} exists already")
    try:
        with transaction.atomic():
            module = Module.objects.create(slug=slug, title=fields["title"], created_by=who)
            ModuleVersion.objects.create(module=module, number=1, created_by=who, **fields)
            record(
                Action.TRAINING_MODULE_CREATED,
                request=request,
                actor=actor,
                actor_label=who,
                subject_label=f"module:{slug}",
                module=slug,
                version=1,
                title=fields["title"],
            )
    except IntegrityError as exc:  # created at the same moment by someone else
        raise ModuleSlugTaken(f"a module named {slug!r} exists already") from exc
    return module


def edit(
    module: Module,
    *,
    title: str,
    content: str,
    quiz_items: object,
    pass_mark: object,
    requires_everyone_again: bool = False,
    due_at: datetime | None = None,
    actor: Employee | None = None,
    request: HttpRequest | None = None,
) -> ModuleVersion:
    """A new version of ``module`` (audited).  With ``requires_everyone_again`` earlier passes stop counting and
    the module's assignments open again, due ``due_at`` (default: in ``[training] new_employee_due_days``)."""
    if module.archived_at is not None:
        raise ModuleArchived(f"the module {module.slug!r} is archived")
    fields = _clean(title, content, quiz_items, pass_mark)
    who = _who(actor, request)
    if due_at is None:
        due_at = timezone.now() + timedelta(days=settings.SMISHGUARD.training.new_employee_due_days)
    with transaction.atomic():
        module = Module.objects.select_for_update().get(pk=module.pk)
        latest = latest_version(module)
        if not requires_everyone_again and all(getattr(latest, name) == value for name, value in fields.items()):
            raise ModuleUnchanged("nothing changed, so no new version was made")
        version = ModuleVersion.objects.create(
            module=module,
            number=latest.number + 1,
            requires_everyone_again=requires_everyone_again,
            created_by=who,
            **fields,
        )
        module.title = version.title
        update = ["title"]
        if requires_everyone_again:
            module.required_version = version.number
            update.append("required_version")
        module.save(update_fields=update)
        reopened = 0
        if requires_everyone_again:
            assignments = (
                Assignment.objects.filter(module=module)
                .exclude(employee__status=Employee.Status.OFFBOARDED)
                .select_related("employee")
                .order_by("id")
            )
            for assignment in assignments:
                compliance.assign(
                    assignment.employee,
                    module,
                    due_at=due_at,
                    source=Assignment.Source.NEW_VERSION,
                    assigned_by=who,
                )
                reopened += 1
        record(
            Action.TRAINING_MODULE_VERSIONED,
            request=request,
            actor=actor,
            actor_label=who,
            subject_label=f"module:{module.slug}",
            module=module.slug,
            version=version.number,
            requires_everyone_again=requires_everyone_again,
            assignments_reopened=reopened,
        )
    return version


def archive(module: Module, *, actor: Employee | None = None, request: HttpRequest | None = None) -> Module:
    """Archive ``module`` (audited): staff no longer see it, and it can no longer be edited."""
    if module.archived_at is not None:
        raise ModuleArchived(f"the module {module.slug!r} is archived already")
    who = _who(actor, request)
    with transaction.atomic():
        module.archived_at = timezone.now()
        module.save(update_fields=["archived_at"])
        record(
            Action.TRAINING_MODULE_ARCHIVED,
            request=request,
            actor=actor,
            actor_label=who,
            subject_label=f"module:{module.slug}",
            module=module.slug,
        )
    return module
