"""Brand and Keyword leave ``reports``' migration state (issue 12): ``detection.0001_initial`` took them over,
rows and all, and renamed their tables; nothing changes in the database here."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0004_benign_review"),
        ("detection", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="Brand"),
                migrations.DeleteModel(name="Keyword"),
            ],
        ),
    ]
