"""Install the bundled training module, "smishing" (``[training] lesson_module``'s default): its text and quiz are
read from ``training/content/smishing/`` (module.md; module.json: title, pass mark, quiz).  Historical models only.
Undone by removing it again, unless someone has already attempted it (attempts are kept: it then stays)."""

import json
from pathlib import Path

from django.db import migrations

SLUG = "smishing"
CONTENT = Path(__file__).resolve().parent.parent / "content" / SLUG


def install(apps, schema_editor):  # noqa: ARG001 - RunPython passes the schema editor
    module_model = apps.get_model("training", "Module")
    version_model = apps.get_model("training", "ModuleVersion")
    if module_model.objects.filter(slug=SLUG).exists():
        return
    meta = json.loads((CONTENT / "module.json").read_text(encoding="utf-8"))
    content = (CONTENT / "module.md").read_text(encoding="utf-8")
    module = module_model.objects.create(slug=SLUG, title=meta["title"], created_by="smishguard")
    version_model.objects.create(
        module=module,
        number=1,
        title=meta["title"],
        content=content,
        quiz=meta["quiz"],
        pass_mark=meta["pass_mark"],
        created_by="smishguard",
    )


def remove(apps, schema_editor):  # noqa: ARG001 - RunPython passes the schema editor
    module_model = apps.get_model("training", "Module")
    attempt_model = apps.get_model("training", "Attempt")
    if not attempt_model.objects.filter(version__module__slug=SLUG).exists():
        module_model.objects.filter(slug=SLUG).delete()


class Migration(migrations.Migration):
    dependencies = [("training", "0001_initial")]

    operations = [migrations.RunPython(install, remove)]
