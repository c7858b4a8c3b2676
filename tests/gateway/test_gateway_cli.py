"""Issue 14: ``smishguard gateway check --user EMAIL [--method M] URL [--json]`` — the rule, the decision and why;
an unknown user, a refused URL, an unknown group or a policy that does not load is one readable line, exit 2.

In-process through ``cli.main`` on the test database, and the console script itself on a data folder of its own
with smishguard.toml named by SMISHGUARD_CONFIG; both in SQLite and in production mode."""

from __future__ import annotations

import dataclasses
import json
import tomllib
from pathlib import Path

import pytest
from servers import clean_env, smishguard

from smishguard import cli
from smishguard.accounts.models import Employee
from smishguard.accounts.services import add_employee
from smishguard.gateway import rules

POLICY = """
[gateway]
default_policy = "deny"

[[gateway.rules]]
domain = "customers.example.com"
resources = ["^/customers/(?P<customer>[^/]+)"]
methods = ["GET", "HEAD"]
subject = ["group:support", "user:ada@example.com"]
networks = ["10.0.0.0/8"]
policy = "step_up"
reauth_max_age = 900

[[gateway.rules]]
domain = "customers.example.com"
resources = ["^/customers/?$"]
policy = "signed_in"
"""


@pytest.fixture
def gateway(settings):
    def apply(text: str) -> None:
        settings.SMISHGUARD = dataclasses.replace(settings.SMISHGUARD, raw=tomllib.loads(text))

    apply(POLICY)
    return apply


@pytest.fixture
def people(db):
    add_employee(email="ada@example.com", name="Ada")
    add_employee(email="bob@example.com", name="Bob", groups=["support"])
    add_employee(email="carol@example.com", name="Carol", groups=["sales"])
    gone = add_employee(email="dan@example.com", name="Dan", groups=["support"])
    Employee.objects.filter(pk=gone.pk).update(status=Employee.Status.OFFBOARDED)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(["gateway", "check", *argv])
    out, err = capsys.readouterr()
    return code, out, err


# argv -> the --json answer
JSON_CASES = [
    (
        ["--user", "bob@example.com", "--address", "10.1.1.1", "https://customers.example.com/customers/42"],
        {"decision": "allow", "rule": 1, "reason": "step_up_fresh", "customer": "42"},
    ),
    (
        [
            "--user",
            "Ada@Example.com",
            "--address",
            "10.1.1.1",
            "--method",
            "head",
            "https://customers.example.com/customers/42/x",
        ],
        {"decision": "allow", "rule": 1, "reason": "step_up_fresh", "customer": "42"},
    ),
    (
        [
            "--user",
            "bob@example.com",
            "--address",
            "10.1.1.1",
            "--seconds-since-key",
            "901",
            "https://customers.example.com/customers/42",
        ],
        {"decision": "step_up", "rule": 1, "reason": "step_up", "customer": "42"},
    ),
    (
        ["--user", "carol@example.com", "--address", "10.1.1.1", "https://customers.example.com/customers/42"],
        {"decision": "deny", "rule": None, "reason": "subject", "customer": None},
    ),
    (
        ["--user", "bob@example.com", "--address", "192.0.2.1", "https://customers.example.com/customers/42"],
        {"decision": "deny", "rule": None, "reason": "network", "customer": None},
    ),
    (
        [
            "--user",
            "bob@example.com",
            "--address",
            "10.1.1.1",
            "--method",
            "DELETE",
            "https://customers.example.com/customers/42",
        ],
        {"decision": "deny", "rule": None, "reason": "method", "customer": None},
    ),
    (
        ["--user", "carol@example.com", "https://customers.example.com/customers"],
        {"decision": "allow", "rule": 2, "reason": "signed_in", "customer": None},
    ),
    (
        ["--user", "carol@example.com", "https://customers.example.com/admin?next=/customers"],
        {"decision": "deny", "rule": None, "reason": "no_rule", "customer": None},
    ),
    (
        ["--address", "10.1.1.1", "https://customers.example.com/customers/42"],
        {"decision": "sign_in", "rule": 1, "reason": "signed_out", "customer": "42"},
    ),
    (
        ["--user", "ada@example.com", "https://intranet.example.com/"],
        {"decision": "deny", "rule": None, "reason": "unknown_host", "customer": None},
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("argv", "expected"), JSON_CASES, ids=[" ".join(a) for a, _ in JSON_CASES])
def test_check_json_is_the_four_keys(gateway, people, capsys, argv, expected):
    code, out, err = run(capsys, "--json", *argv)
    assert err == ""
    assert code == 0
    assert json.loads(out) == expected
    assert out.count("\n") == 1


@pytest.mark.django_db
def test_check_says_the_rule_the_decision_and_why(gateway, people, capsys):
    code, out, _ = run(
        capsys,
        "--user",
        "bob@example.com",
        "--address",
        "10.1.1.1",
        "https://customers.example.com//x/../customers/42?q=1",
    )
    assert code == 0
    assert out.splitlines() == [
        "GET https://customers.example.com/customers/42 as bob@example.com",
        "rule #1: customers.example.com ^/customers/(?P<customer>[^/]+) methods GET,HEAD "
        "subject group:support,user:ada@example.com networks 10.0.0.0/8 -> step_up (reauth_max_age 900 s)",
        "decision: allow (step_up_fresh: the session touched its key within the rule's reauth_max_age)",
        "customer: 42",
    ]
    code, out, _ = run(capsys, "https://elsewhere.example.com/")
    assert out.splitlines()[1:] == [
        "no rule decides (default_policy deny)",
        "decision: deny (unknown_host: no rule names this host)",
    ]


# argv -> the one error line
ERRORS = [
    (
        ["--user", "nobody@example.com", "https://customers.example.com/customers"],
        "no employee with the email 'nobody@example.com'",
    ),
    (
        ["--user", "dan@example.com", "https://customers.example.com/customers"],
        "dan@example.com is offboarded: they cannot sign in",
    ),
    (
        ["https://customers.example.com/customers%2F1"],
        "the gateway refuses this request (encoded_slash): the path holds an encoded slash (%2F)",
    ),
    (["https://customers.example.com/customers/%252F1"], "the gateway refuses this request (double_encoding): "),
    (["https://customers.example.com/customers/%ff"], "the gateway refuses this request (invalid_utf8): "),
    (["https://customers.example.com/customers/%00"], "the gateway refuses this request (nul): "),
    (["/customers/1"], "the gateway refuses this request (bad_url): "),
    (["--method", "GE T", "https://customers.example.com/"], "the gateway refuses this request (bad_method): "),
    (["--address", "ten", "https://customers.example.com/"], "--address 'ten' is not an IP address"),
    (["--seconds-since-key", "-1", "https://customers.example.com/"], "--seconds-since-key must be a number >= 0"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("argv", "message"), ERRORS, ids=[m for _, m in ERRORS])
def test_bad_input_is_one_readable_line_and_status_2(gateway, people, capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert (code, out) == (2, "")
    assert err.startswith(f"smishguard: error: {message}")
    assert err.count("\n") == 1


@pytest.mark.django_db
def test_a_group_no_employee_is_in_is_refused_when_the_policy_meets_the_database(gateway, people, capsys):
    gateway(
        POLICY + '[[gateway.rules]]\ndomain = "x.example.com"\nsubject = ["group:auditors"]\npolicy = "signed_in"\n'
    )
    code, out, err = run(capsys, "https://customers.example.com/customers")
    assert (code, out) == (2, "")
    assert err.startswith("smishguard: error: [[gateway.rules]] #3: subject: no such group: auditors (")
    assert err.count("\n") == 1


# ---------------------------------------------------------------------------------------------- the console script


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("gateway-cli")
    config = root / "smishguard.toml"
    config.write_text(POLICY, encoding="utf-8")
    env = clean_env(root / "var", SMISHGUARD_CONFIG=str(config))
    smishguard(env, "migrate")
    smishguard(env, "employees", "add", "bob@example.com", "--name", "Bob", "--group", "support")
    return env


def test_the_console_script_checks_a_request(site):
    result = smishguard(
        site, "gateway", "check", "--user", "bob@example.com", "--address", "10.2.3.4", "--json",
        "https://customers.example.com/customers/%2e%2e/customers/9",
    )  # fmt: skip
    assert json.loads(result.stdout) == {"decision": "allow", "rule": 1, "reason": "step_up_fresh", "customer": "9"}
    refused = smishguard(
        site, "gateway", "check", "--user", "eve@example.com", "https://customers.example.com/", check=False
    )
    assert (refused.returncode, refused.stdout) == (2, "")
    assert refused.stderr == "smishguard: error: no employee with the email 'eve@example.com'\n"


def test_a_policy_that_does_not_load_stops_the_command_with_one_line(site, tmp_path: Path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[gateway.rules]]\ndomain = "a.example.com"\npolicy = "deny"\nresources = ["^/(a+)+$"]\n')
    result = smishguard(
        {**site, "SMISHGUARD_CONFIG": str(bad)}, "gateway", "check", "https://a.example.com/", check=False
    )
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "smishguard: error: [[gateway.rules]] #1: resources: '^/(a+)+$' can backtrack catastrophically "
        "(a quantifier inside a repeated group)\n"
    )


def test_doctor_shows_the_policy_and_a_group_that_does_not_exist(site, tmp_path: Path):
    result = smishguard(site, "doctor", check=False)
    lines = result.stdout.splitlines()
    fingerprint = rules.fingerprint(tomllib.loads(POLICY))
    assert (
        f"configured  gateway          policy {fingerprint}: 2 rule(s), default_policy deny, "
        "trusted proxies 127.0.0.1/32, ::1/128"
    ) in lines
    assert not any(line.startswith("unsafe      gateway") for line in lines)
    missing = tmp_path / "missing.toml"
    missing.write_text(POLICY.replace("group:support", "group:auditors"), encoding="utf-8")
    result = smishguard({**site, "SMISHGUARD_CONFIG": str(missing)}, "doctor", check=False)
    assert result.returncode == 1
    assert "unsafe      gateway          [[gateway.rules]] #1: subject: no such group: auditors (" in result.stdout


def test_rules_prints_the_policy_with_its_fingerprint(gateway, people, capsys):
    code = cli.main(["gateway", "rules"])
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == f"policy {rules.fingerprint(tomllib.loads(POLICY))}: default_policy deny, 2 rule(s)"
    assert lines[1] == "proxies allowed to ask: 127.0.0.1/32, ::1/128"
    assert lines[2].startswith("rule #1: customers.example.com ^/customers/(?P<customer>[^/]+) methods GET,HEAD")
    assert lines[3] == "rule #2: customers.example.com ^/customers/?$ -> signed_in"
    code = cli.main(["gateway", "rules", "--json"])
    answer = json.loads(capsys.readouterr().out)
    assert answer["fingerprint"] == rules.fingerprint(tomllib.loads(POLICY))
    assert answer["default_policy"] == "deny"
    assert answer["rules"][0] == {
        "number": 1,
        "domain": ["customers.example.com"],
        "resources": ["^/customers/(?P<customer>[^/]+)"],
        "methods": ["GET", "HEAD"],
        "subject": ["group:support", "user:ada@example.com"],
        "networks": ["10.0.0.0/8"],
        "policy": "step_up",
        "reauth_max_age": 900,
        "training_required": False,
    }


def test_rules_refuses_a_policy_naming_a_group_that_does_not_exist(gateway, people, capsys):
    gateway(POLICY.replace("group:support", "group:auditors"))
    code = cli.main(["gateway", "rules"])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert err.startswith("smishguard: error: [[gateway.rules]] #1: subject: no such group: auditors (")
