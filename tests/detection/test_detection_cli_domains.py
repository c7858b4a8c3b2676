"""``smishguard domains check`` and ``smishguard brands import|list``."""

import json

import pytest

from smishguard.cli import main
from smishguard.detection.models import Brand, Keyword

BRANDS_TOML = """
keywords = ["payroll"]

[[brands]]
name = "Twilio"
domains = ["twilio.com"]

[[brands]]
name = "T-Mobile"
domains = ["t-mobile.com", "tmobile.com"]
tokens = ["tmobile", "t-mobile", "tmo"]
"""


@pytest.fixture
def brands_file(tmp_path):
    path = tmp_path / "brands.toml"
    path.write_text(BRANDS_TOML)
    return path


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines()], err


def test_check_with_config_needs_no_database(capsys, brands_file):
    code, rows, _ = run(
        capsys, "domains", "check", "--config", str(brands_file), "twilio-okta.com", "twilio.com", "example.org"
    )
    assert code == 0
    assert [r["domain"] for r in rows] == ["twilio-okta.com", "twilio.com", "example.org"]
    assert [r["verdict"] for r in rows] == ["lookalike", "official", "clear"]
    assert rows[0]["brand"] == "Twilio"
    assert "keyword" in rows[0]["techniques"]
    assert set(rows[0]) == {"domain", "registrable", "verdict", "brand", "techniques", "score", "reasons", "matcher"}
    assert rows[0]["matcher"] == "2"
    assert any("sign-in or IT word" in r for r in rows[0]["reasons"])


def test_config_keywords_are_used(capsys, brands_file):
    _, rows, _ = run(capsys, "domains", "check", "--config", str(brands_file), "tmobile-payroll.com")
    assert rows[0]["verdict"] == "lookalike"
    assert rows[0]["brand"] == "T-Mobile"


def test_file_input_keeps_order_and_reports_bad_lines(capsys, brands_file, tmp_path):
    f = tmp_path / "names.txt"
    f.write_bytes(b"twilio-sso.com\n" + b"a" * 300 + b".com\n\xff\xfe.com\nxn--zz.com\ntwilio.com\n")
    code, rows, err = run(capsys, "domains", "check", "--config", str(brands_file), "--file", str(f))
    # the bad lines are reported on stderr, one line each naming its line number; the rest go on
    assert code == 1
    assert [(r["domain"], r["verdict"]) for r in rows] == [("twilio-sso.com", "lookalike"), ("twilio.com", "official")]
    lines = err.strip().splitlines()
    assert len(lines) == 3, err
    assert lines[0].startswith(f"smishguard: error: {f}: line 2: ")
    assert lines[1].startswith(f"smishguard: error: {f}: line 3: ")
    assert "UTF-8" in lines[1]
    assert lines[2].startswith(f"smishguard: error: {f}: line 4: 'xn--zz.com' ")
    assert "Traceback" not in err


@pytest.mark.parametrize("bad", ["!!!garbage###", "", "   ", "exa mple.com"])
def test_a_bad_name_is_an_error_on_stderr_and_exit_status_1(capsys, brands_file, bad):
    code, rows, err = run(capsys, "domains", "check", "--config", str(brands_file), "twilio-sso.com", bad, "twilio.com")
    assert code == 1
    assert [r["domain"] for r in rows] == ["twilio-sso.com", "twilio.com"]  # the good ones still print
    assert all("error" not in r for r in rows)
    [line] = err.strip().splitlines()
    assert line.startswith(f"smishguard: error: {bad!r} is not a domain name")


def test_only_bad_names_print_nothing_on_stdout(capsys, brands_file):
    code, rows, err = run(capsys, "domains", "check", "--config", str(brands_file), "!!!garbage###")
    assert (code, rows) == (1, [])
    assert "'!!!garbage###'" in err


def test_good_names_exit_0(capsys, brands_file, tmp_path):
    f = tmp_path / "names.txt"
    f.write_text("twilio-sso.com\n\nexample.org\n")  # a blank line is skipped, not an error
    code, rows, err = run(capsys, "domains", "check", "--config", str(brands_file), "--file", str(f))
    assert (code, err) == (0, "")
    assert [r["domain"] for r in rows] == ["twilio-sso.com", "example.org"]


def test_brand_option_adds_a_brand_for_one_run(capsys, brands_file):
    _, rows, _ = run(
        capsys, "domains", "check", "--config", str(brands_file), "--brand", "Acme=acme.com", "acme-vpn.com"
    )
    assert (rows[0]["verdict"], rows[0]["brand"]) == ("lookalike", "Acme")
    code, _, err = run(capsys, "domains", "check", "--config", str(brands_file), "--brand", "Acme", "x.com")
    assert code == 2
    assert "NAME=domain1,domain2" in err


@pytest.mark.parametrize(
    ("content", "message"),
    [("[[brands]]\nname = 'X'\n", "domains"), ("not toml ===", "TOML"), ("[[brands]]\ndomains=['x.com']\n", "name")],
)
def test_malformed_config_is_one_clear_line(capsys, tmp_path, content, message):
    f = tmp_path / "bad.toml"
    f.write_text(content)
    code, _, err = run(capsys, "domains", "check", "--config", str(f), "x.com")
    assert code == 2
    assert err.startswith("smishguard: error:")
    assert message.lower() in err.lower()
    assert "Traceback" not in err


@pytest.mark.django_db
def test_brands_import_then_check_uses_the_database(capsys, brands_file):
    code = main(["brands", "import", str(brands_file)])
    out, _ = capsys.readouterr()
    assert code == 0
    assert "imported 2 brand(s), added 1 keyword(s)" in out
    assert sorted(Brand.objects.values_list("name", flat=True)) == ["T-Mobile", "Twilio"]
    assert list(Keyword.objects.values_list("word", flat=True)) == ["payroll"]
    # importing again updates, it does not duplicate
    assert main(["brands", "import", str(brands_file)]) == 0
    capsys.readouterr()
    assert Brand.objects.count() == 2
    _, rows, _ = run(capsys, "domains", "check", "twilio-payroll.com", "attic.com")
    assert [r["verdict"] for r in rows] == ["lookalike", "clear"]
    code, _, _ = run(capsys, "brands", "list", "--json")
    assert code == 0


# --- issue 15: the line where lookalike starts, partners --------------------------------------------------------


def test_min_score_flag_draws_the_line(capsys, brands_file):
    # twilio-zeta.com: the brand as a whole part beside an unknown word (brand-part, 0.8)
    _, (row,), _ = run(capsys, "domains", "check", "--config", str(brands_file), "twilio-zeta.com")
    assert (row["verdict"], row["techniques"]) == ("lookalike", ["brand-part"])
    _, (row,), _ = run(
        capsys, "domains", "check", "--config", str(brands_file), "--min-score", "0.85", "twilio-zeta.com"
    )
    assert (row["verdict"], row["brand"], row["techniques"]) == ("clear", "Twilio", ["brand-part"])
    assert "under the line 0.85" in row["reasons"][-1]


def test_min_score_from_the_config_file_and_the_flag_wins(capsys, tmp_path):
    path = tmp_path / "smishguard.toml"
    path.write_text(BRANDS_TOML + "\n[detection]\nmin_score = 0.85\n")
    _, (row,), _ = run(capsys, "domains", "check", "--config", str(path), "twilio-zeta.com")
    assert row["verdict"] == "clear"
    _, (row,), _ = run(capsys, "domains", "check", "--config", str(path), "--min-score", "0", "twilio-zeta.com")
    assert row["verdict"] == "lookalike"


@pytest.mark.parametrize("value", ["1.5", "-0.1", "high"])
def test_a_bad_min_score_is_one_readable_line(capsys, brands_file, value):
    with pytest.raises(SystemExit) as exc:
        main(["domains", "check", "--config", str(brands_file), "--min-score", value, "twilio.com"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "--min-score" in err
    assert "Traceback" not in err


def test_a_bad_min_score_in_the_config_file_is_one_readable_line(capsys, tmp_path):
    path = tmp_path / "smishguard.toml"
    path.write_text(BRANDS_TOML + "\n[detection]\nmin_score = 2\n")
    code = main(["domains", "check", "--config", str(path), "twilio.com"])
    err = capsys.readouterr().err
    assert code != 0
    assert "[detection] min_score must be a number from 0 to 1" in err


@pytest.mark.django_db
def test_partners_imported_listed_and_never_flagged(capsys, tmp_path):
    path = tmp_path / "brands.toml"
    path.write_text('[[brands]]\nname = "Twilio"\ndomains = ["twilio.com"]\npartners = ["twilio-reseller.com"]\n')
    assert main(["brands", "import", str(path)]) == 0
    capsys.readouterr()
    assert Brand.objects.get().partners == ["twilio-reseller.com"]
    _, (row,), _ = run(capsys, "domains", "check", "shop.twilio-reseller.com")
    assert (row["verdict"], row["brand"]) == ("partner", "Twilio")
    _, (listed,), _ = run(capsys, "brands", "list", "--json")
    assert listed["partners"] == ["twilio-reseller.com"]
