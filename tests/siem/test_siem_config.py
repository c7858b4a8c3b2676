"""``[siem]`` and ``[[siem.streams]]`` in smishguard.toml: read at start, each mistake one readable line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from servers import clean_env

from smishguard import config
from smishguard.config import ConfigError

GOOD = """
[siem]
horizon_seconds = 2

[[siem.streams]]
name = "soc-syslog"
kind = "syslog"
host = "siem.example.net"

[[siem.streams]]
name = "splunk"
kind = "http"
url = "https://hec-user:hec-password@splunk.example:8088/services/collector/event"
format = "hec"
token_env = "SPLUNK_HEC_TOKEN"
batch_size = 500
"""


def load(tmp_path: Path, text: str) -> config.Settings:
    path = tmp_path / "smishguard.toml"
    path.write_text(text, encoding="utf-8")
    return config.load(path)


def test_streams_are_read_with_their_defaults(tmp_path):
    siem = load(tmp_path, GOOD).siem
    syslog, hec = siem.streams
    assert siem.horizon_seconds == 2
    assert (syslog.kind, syslog.tls, syslog.syslog_port, syslog.facility) == ("syslog", True, 6514, 10)
    assert syslog.target == "syslog+tls://siem.example.net:6514"
    assert (hec.format, hec.batch_size, hec.token_env) == ("hec", 500, "SPLUNK_HEC_TOKEN")
    assert hec.target == "https://splunk.example:8088/…"  # printed without its credentials or path
    assert "hec-password" not in repr(siem)
    assert siem.stream("splunk") is hec
    assert siem.stream("nope") is None
    plain = load(tmp_path, '[[siem.streams]]\nname = "x"\nkind = "syslog"\nhost = "h"\ntls = false\n').siem
    assert plain.streams[0].syslog_port == 601


def test_no_siem_table_means_no_streams(tmp_path):
    assert load(tmp_path, 'origin = "https://smishguard.example"\n').siem.streams == ()


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (
            '[[siem.streams]]\nname = "a"\nkind = "http"\nurl = "https://x.example/"\ntoken = "s3cret"\n',
            "never write the token in smishguard.toml",
        ),
        ('[[siem.streams]]\nname = "a"\nkind = "kafka"\n', 'kind must be "syslog" or "http"'),
        ('[[siem.streams]]\nkind = "syslog"\nhost = "h"\n', "name is required"),
        ('[[siem.streams]]\nname = "Big Name"\nkind = "syslog"\nhost = "h"\n', "name must be lower-case"),
        ('[[siem.streams]]\nname = "a"\nkind = "syslog"\n', "a syslog stream needs host"),
        ('[[siem.streams]]\nname = "a"\nkind = "syslog"\nhost = "h"\nport = 70000\n', "port must be a TCP port"),
        ('[[siem.streams]]\nname = "a"\nkind = "syslog"\nhost = "h"\ncolour = "red"\n', "unknown setting(s): colour"),
        ('[[siem.streams]]\nname = "a"\nkind = "http"\nurl = "ftp://x/"\n', "needs url, an http(s) URL"),
        ('[[siem.streams]]\nname = "a"\nkind = "http"\nurl = "https://x/"\nformat = "hec"\n', "needs its token"),
        ('[[siem.streams]]\nname = "a"\nkind = "http"\nurl = "https://x/"\nformat = "xml"\n', 'format must be "hec"'),
        ('[[siem.streams]]\nname = "a"\nkind = "syslog"\nhost = "h"\nca_file = "/nonexistent.pem"\n', "ca_file"),
        ('[[siem.streams]]\nname = "a"\nkind = "syslog"\nhost = "h"\nbatch_size = 0\n', "batch_size must be"),
        ('[[siem.streams]]\nname = "a"\nkind = "syslog"\nhost = "h"\nsd_id = "a b"\n', "sd_id must be"),
        (
            '[[siem.streams]]\nname = "a"\nkind = "syslog"\nhost = "h"\n[[siem.streams]]\nname = "a"\n'
            'kind = "syslog"\nhost = "h"\n',
            "used twice: a",
        ),
        ("[siem]\nhorizon_seconds = -1\n", "horizon_seconds must be a number >= 0"),
        ('[siem]\nstreams = "x"\n', "array of tables"),
        ("[siem]\nstream = []\n", "unknown setting(s) in [siem]: stream"),
    ],
)
def test_each_mistake_is_one_readable_line(tmp_path, toml, message):
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, toml)
    text = str(caught.value)
    assert message in text
    assert "\n" not in text
    assert "s3cret" not in text


def test_a_config_error_stops_a_command_with_one_line(tmp_path):
    """Read at start: the process stops before anything else, with one line (never the token)."""
    path = tmp_path / "smishguard.toml"
    path.write_text('[[siem.streams]]\nname = "a"\nkind = "http"\nurl = "https://x/"\ntoken = "s3cret"\n')
    env = clean_env(tmp_path / "var", sqlite=True, SMISHGUARD_CONFIG=str(path))
    done = subprocess.run(
        [sys.executable, "-m", "smishguard.cli", "siem", "status"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1, done.stderr
    assert "never write the token" in done.stderr
    assert "s3cret" not in done.stderr + done.stdout


def test_the_example_streams_in_deploy_read_as_written(tmp_path):
    (tmp_path / "ca.pem").write_text("a CA\n")
    example = (Path(__file__).resolve().parents[2] / "deploy" / "smishguard.toml").read_text(encoding="utf-8")
    block = example[example.index("#   [[siem.streams]]") :]
    text = "\n".join(line.removeprefix("#").removeprefix("   ") for line in block.splitlines())
    soc, splunk = load(tmp_path, text.replace("/etc/smishguard/siem-ca.pem", str(tmp_path / "ca.pem"))).siem.streams
    assert (soc.kind, soc.tls, soc.syslog_port) == ("syslog", True, 6514)
    assert (splunk.kind, splunk.format, splunk.token_env) == ("http", "hec", "SMISHGUARD_SPLUNK_HEC_TOKEN")


def test_doctor_calls_a_stream_in_clear_to_another_machine_unsafe(tmp_path):
    from smishguard.doctor import Report, _unsafe

    settings = load(
        tmp_path,
        '[[siem.streams]]\nname = "clear"\nkind = "syslog"\nhost = "siem.example.net"\ntls = false\n'
        '[[siem.streams]]\nname = "local"\nkind = "syslog"\nhost = "127.0.0.1"\ntls = false\n'
        '[[siem.streams]]\nname = "plainhttp"\nkind = "http"\nurl = "http://logs.example.net/in"\n'
        '[[siem.streams]]\nname = "tls"\nkind = "syslog"\nhost = "siem.example.net"\n',
    )
    report = Report()
    _unsafe(report, settings)
    assert (
        report.unsafe["siem clear"] == "syslog://siem.example.net:601 is not encrypted and not on this machine: use TLS"
    )
    assert report.unsafe["siem plainhttp"].startswith("http://logs.example.net/… is not encrypted")
    assert "siem local" not in report.unsafe
    assert "siem tls" not in report.unsafe
