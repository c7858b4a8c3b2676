"""``[detection] min_score`` in smishguard.toml: where a lookalike verdict starts, for every matcher the app builds."""

from __future__ import annotations

import pytest

from smishguard.config import ConfigError, load


def test_default_line_counts_every_imitation(tmp_path):
    path = tmp_path / "smishguard.toml"
    path.write_text("")
    assert load(path).detection.min_score == pytest.approx(0.0)


def test_min_score_is_read(tmp_path):
    path = tmp_path / "smishguard.toml"
    path.write_text("[detection]\nmin_score = 0.75\n")
    assert load(path).detection.min_score == pytest.approx(0.75)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[detection]\nmin_score = 1.2\n", "min_score must be a number from 0 to 1"),
        ('[detection]\nmin_score = "high"\n', "min_score must be a number from 0 to 1"),
        ("[detection]\nmin_score = true\n", "min_score must be a number from 0 to 1"),
        ("[detection]\nminscore = 0.5\n", "unknown setting(s) in [detection]: minscore"),
        ("detection = 3\n", "[detection] must be a table"),
    ],
)
def test_bad_values_are_one_readable_error(tmp_path, text, message):
    path = tmp_path / "smishguard.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as exc:
        load(path)
    assert message in str(exc.value)


@pytest.mark.django_db
def test_the_apps_matcher_uses_the_configured_line(settings):
    from dataclasses import replace

    from smishguard.detection import services

    services.save_brand(name="Acme", domains=["acme.com"])
    settings.SMISHGUARD = replace(settings.SMISHGUARD, detection=replace(settings.SMISHGUARD.detection, min_score=0.85))
    services._cache["version"] = None  # a change of settings is a restart in production
    assert services.current_matcher().check("acme-zeta.com").verdict == "clear"
    settings.SMISHGUARD = replace(settings.SMISHGUARD, detection=replace(settings.SMISHGUARD.detection, min_score=0.0))
    services._cache["version"] = None
    assert services.current_matcher().check("acme-zeta.com").verdict == "lookalike"
