"""deploy/systemd/*.service: each starts a real smishguard command with flags the CLI accepts, reads
/etc/smishguard/env (whose keys deploy/env.example documents, each one smishguard reads), runs hardened as the
smishguard user, restarts on failure, waits for the network, and passes ``systemd-analyze verify``."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from servers import VENV_BIN

from smishguard.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
UNITS = sorted((ROOT / "deploy" / "systemd").glob("*.service"))
INSTALLED = "/opt/smishguard/.venv/bin/smishguard"
ENV_FILE = "/etc/smishguard/env"
DATA = "/var/lib/smishguard"
# What every service needs from /etc/smishguard/env (docs/deploy.md, "Production mode" and "Two hosts").
RELIED_ON = {
    "SMISHGUARD_DATABASE_URL",
    "SMISHGUARD_REDIS_URL",
    "SMISHGUARD_SECRET_KEY",
    "SMISHGUARD_ORIGIN",
    "SMISHGUARD_RP_ID",
    "SMISHGUARD_ALLOWED_HOSTS",
    "SMISHGUARD_TRUSTED_PROXIES",
    "SMISHGUARD_CONFIG",
}
COMMANDS = {
    "smishguard-web.service": ("serve",),
    "smishguard-worker.service": ("worker",),
    "smishguard-watch.service": ("watch", "ct"),
}


def parse_unit(path: Path) -> dict[str, list[tuple[str, str]]]:
    """A unit file's sections, each a list of (key, value) in order (a key may repeat, as ExecStartPre can)."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current = None
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
            continue
        assert current is not None, f"{path.name}: {line!r} before any [section]"
        assert not line.endswith("\\"), f"{path.name}: no continued lines, please ({line!r})"
        key, sep, value = line.partition("=")
        assert sep, f"{path.name}: {line!r} is not KEY=VALUE"
        current.append((key.strip(), value.strip()))
    return sections


def values(section: list[tuple[str, str]], key: str) -> list[str]:
    return [value for k, value in section if k == key]


def one(section: list[tuple[str, str]], key: str) -> str:
    found = values(section, key)
    assert len(found) == 1, f"{key}= should be set once, not {found}"
    return found[0]


def env_example_keys() -> set[str]:
    """The keys deploy/env.example sets or shows commented out (``#SMISHGUARD_X=``)."""
    text = (ROOT / "deploy" / "env.example").read_text(encoding="utf-8")
    return set(re.findall(r"^#?(SMISHGUARD_[A-Z0-9_]+)=", text, flags=re.MULTILINE))


def names_read_by_smishguard() -> set[str]:
    """Every SMISHGUARD_* name the code reads: spelt out, or through config.env("X") / env_bool("X")."""
    names: set[str] = set()
    for path in (ROOT / "src" / "smishguard").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        names.update(re.findall(r"SMISHGUARD_[A-Z0-9_]+", text))
        names.update("SMISHGUARD_" + n for n in re.findall(r"\benv(?:_bool|_int|_float)?\(\s*\"([A-Z0-9_]+)\"", text))
    return names


def help_flags(command: tuple[str, ...]) -> set[str]:
    result = subprocess.run(
        [str(VENV_BIN / "smishguard"), *command, "--help"], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, f"smishguard {' '.join(command)} --help: {result.stderr}"
    return set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", result.stdout))


def smishguard_argv(line: str) -> list[str]:
    """An Exec line's smishguard command.  The web unit's migrate step runs as root ("+") to read the owner's
    URL from a root-only file, then runs smishguard as the smishguard user: its command is the one after
    ``runuser -u smishguard --``."""
    argv = shlex.split(line)
    if argv[:2] != ["+/bin/sh", "-c"]:
        return argv
    script = shlex.split(argv[2])
    assert INSTALLED in script, f"{line}: runs no smishguard"
    at = script.index(INSTALLED)
    assert script[at - 5 : at] == ["exec", "/usr/sbin/runuser", "-u", "smishguard", "--"], line
    return script[at:]


def test_the_three_units_are_shipped():
    assert [u.name for u in UNITS] == sorted(COMMANDS)


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_each_exec_line_is_a_real_command_with_accepted_flags(unit):
    service = parse_unit(unit)["Service"]
    exec_lines = [(k, v) for k, v in service if k.startswith("Exec")]
    assert one(service, "ExecStart")
    for key, line in exec_lines:
        if (key, line) == ("ExecReload", "/bin/kill -HUP $MAINPID"):
            assert unit.name == "smishguard-web.service"  # gunicorn's reload; the line before checks the policy
            continue
        argv = smishguard_argv(line)
        assert argv[0] == INSTALLED, f"{unit.name} {key}: {argv[0]} is not the installed smishguard"
        assert not any("$" in word for word in argv), f"{unit.name} {key}: no variables in the command line"
        words = argv[1:]
        command = tuple(word for word in words if not word.startswith("-"))[
            : 2 if words[0] in {"watch", "gateway"} else 1
        ]
        if key == "ExecStart":
            assert command == COMMANDS[unit.name]
        # The flags are among those `smishguard <command> --help` lists...
        flags = {word.split("=", 1)[0] for word in words if word.startswith("--")}
        assert flags <= help_flags(command), f"{unit.name} {key}: unknown flag(s) {flags - help_flags(command)}"
        # ...and the whole command line parses, values and all, with the CLI's own parser.
        args = build_parser().parse_args(words)
        assert callable(args.func)


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_each_unit_is_hardened_restarts_on_failure_and_waits_for_the_network(unit):
    sections = parse_unit(unit)
    service = sections["Service"]
    assert one(service, "User") == "smishguard"
    assert one(service, "EnvironmentFile") == ENV_FILE
    assert one(service, "WorkingDirectory") == DATA
    assert one(service, "StateDirectory") == "smishguard"
    assert one(service, "NoNewPrivileges") == "true"
    assert one(service, "ProtectSystem") == "strict"
    assert one(service, "PrivateTmp") == "true"
    assert one(service, "ProtectHome") == "true"
    assert DATA in " ".join(values(service, "ReadWritePaths")).split()
    assert one(service, "Restart") == "on-failure"
    unit_section = sections["Unit"]
    assert "network-online.target" in one(unit_section, "Wants").split()
    assert "network-online.target" in one(unit_section, "After").split()
    assert one(sections["Install"], "WantedBy") == "multi-user.target"


def test_the_environment_file_keys_are_documented_and_real():
    documented = env_example_keys()
    assert documented >= RELIED_ON, f"deploy/env.example does not show {sorted(RELIED_ON - documented)}"
    unknown = documented - names_read_by_smishguard()
    assert not unknown, f"deploy/env.example names variables smishguard never reads: {sorted(unknown)}"
    for unit in UNITS:
        for _section, pairs in parse_unit(unit).items():
            for key, value in pairs:
                if key == "Environment":
                    assert value.split("=", 1)[0].strip('"') in names_read_by_smishguard()
                assert "${" not in value, f"{unit.name}: {key}= relies on a variable; name it in deploy/env.example"


def test_systemd_analyze_verify_passes(tmp_path):
    """systemd's own check of the units (it runs here without systemd as PID 1: it only loads the files).  The
    installed path of smishguard is swapped for this checkout's, which it checks is executable."""
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze is missing: scripts/install --test installs Debian's systemd package"
    for unit in UNITS:
        text = unit.read_text(encoding="utf-8").replace(INSTALLED, str(VENV_BIN / "smishguard"))
        (tmp_path / unit.name).write_text(text, encoding="utf-8")
    result = subprocess.run(
        [analyze, "verify", *(str(tmp_path / u.name) for u in UNITS)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    complaints = [line for line in (result.stdout + result.stderr).splitlines() if any(u.name in line for u in UNITS)]
    assert result.returncode == 0, result.stdout + result.stderr
    assert not complaints, "\n".join(complaints)
