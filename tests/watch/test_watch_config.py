"""The [watch] table and the flags laid over it; ``smishguard watch status``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smishguard.watch.config import (
    WatchConfigInvalid,
    WatchOptions,
    options_from_table,
    watch_table_from_file,
    with_overrides,
)


def test_table_values_and_relative_paths(tmp_path):
    config = tmp_path / "smishguard.toml"
    config.write_text(
        '[watch]\nlog_list = "lists/log_list.json"\njsonl = "/var/alerts.jsonl"\nbatch_size = 64\n'
        'poll_interval = 5\nstats_interval = 0\nstart = "beginning"\nwebhook = "https://hooks.example/ct"\n',
        encoding="utf-8",
    )
    options = options_from_table(watch_table_from_file(config), base_dir=tmp_path)
    assert options == WatchOptions(
        log_list=str(tmp_path / "lists/log_list.json"),
        jsonl="/var/alerts.jsonl",
        batch_size=64,
        poll_interval=5.0,
        stats_interval=0,
        start="beginning",
        webhook="https://hooks.example/ct",
    )
    # Flags win over the table; a flag left out keeps the table's value.
    assert with_overrides(options, batch_size=8, jsonl=None).batch_size == 8
    assert with_overrides(options, batch_size=8, jsonl=None).jsonl == "/var/alerts.jsonl"


def test_a_file_without_a_watch_table_gives_the_defaults(tmp_path):
    config = tmp_path / "brands.toml"
    config.write_text('[[brands]]\nname = "X"\ndomains = ["x.com"]\n', encoding="utf-8")
    assert watch_table_from_file(config) is None
    assert options_from_table(None) == WatchOptions()


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"log_lists": "x"}, "unknown setting 'log_lists'"),
        ({"batch_size": 0}, "batch_size must be a whole number >= 1"),
        ({"batch_size": 100_000}, "batch_size must be at most 10000"),
        ({"batch_size": "10"}, "batch_size must be a whole number"),
        ({"poll_interval": 0}, "poll_interval must be more than 0"),
        ({"stats_interval": -1}, "stats_interval must be a number of seconds >= 0"),
        ({"start": "middle"}, "start must be 'head' or 'beginning'"),
        ({"webhook": "ftp://x"}, "webhook must be an http(s) URL"),
        ({"jsonl": ""}, "jsonl must be a path"),
        ({"webhook_attempts": 0}, "webhook_attempts must be between 1 and 50"),
    ],
)
def test_bad_values_are_refused_with_where_and_what(table, message):
    with pytest.raises(WatchConfigInvalid, match=r"^\[watch\]: ") as caught:
        options_from_table(table)
    assert message in str(caught.value)


def test_bad_toml_is_one_error(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[watch\n", encoding="utf-8")
    with pytest.raises(WatchConfigInvalid, match="not valid TOML"):
        watch_table_from_file(bad)
    with pytest.raises(WatchConfigInvalid, match="cannot read the file"):
        watch_table_from_file(Path(tmp_path / "missing.toml"))


@pytest.mark.django_db
def test_watch_status_prints_each_log_as_a_json_line(capsys, monkeypatch):
    import smishguard.clitools
    from smishguard.cli import main
    from smishguard.watch.models import LogState

    monkeypatch.setattr(smishguard.clitools, "_django_ready", True)
    LogState.objects.create(key="k1", description="Log one", api="rfc6962", next_index=5, tree_size=9)
    assert main(["watch", "status"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    status = json.loads(line)
    assert (status["description"], status["next_index"], status["tree_size"], status["lag"]) == ("Log one", 5, 9, 4)
