"""`pullprint` as an admin uses it for people: users, codes, rules, settings, admins, audit.
Every test runs on SQLite and on PostgreSQL."""

import json
import re

from conftest import code_of


def test_add_list_and_state_changes(installation):
    inst = installation
    out = inst.cli("users", "add", "Alice@Example.COM", "--name", "Alice A.",
                   "--department", "Finance").stdout
    assert len(code_of(out)) == 6
    users = inst.cli_json("users")
    assert [(u["email"], u["state"], u["name"], u["department"]) for u in users] == \
        [("alice@example.com", "enabled", "Alice A.", "Finance")]

    # The same address again, in any case, is a conflict (exit 4), not a second user.
    dup = inst.cli("users", "add", "ALICE@example.com", check=False)
    assert dup.returncode == 4
    assert "already exists" in dup.stderr

    bad = inst.cli("users", "add", "not-an-address", check=False)
    assert bad.returncode == 2

    inst.cli("users", "add", "bob@example.com", "--pending")
    assert inst.cli_json("users", "--state", "pending")[0]["email"] == "bob@example.com"
    inst.cli("users", "approve", "bob@example.com")
    assert inst.cli_json("users", "show", "bob@example.com")[0]["state"] == "enabled"
    again = inst.cli("users", "approve", "bob@example.com", check=False)
    assert again.returncode == 4

    inst.cli("users", "disable", "bob@example.com")
    assert inst.cli_json("users", "show", "bob@example.com")[0]["state"] == "disabled"
    inst.cli("users", "enable", "bob@example.com")
    inst.cli("users", "delete", "bob@example.com")
    missing = inst.cli("users", "show", "bob@example.com", check=False)
    assert missing.returncode == 3
    assert [u["email"] for u in inst.cli_json("users")] == ["alice@example.com"]


def test_codes_follow_the_length_setting_and_are_reissued(installation):
    inst = installation
    inst.cli("settings", "set", "users.code_length", "8")
    first = code_of(inst.cli("users", "add", "carol@example.com").stdout)
    assert len(first) == 8
    second = json.loads(inst.cli("--json", "users", "code", "carol@example.com").stdout)["code"]
    assert len(second) == 8 and second != first

    bad = inst.cli("settings", "set", "users.code_length", "3", check=False)
    assert bad.returncode == 2
    assert "4" in bad.stderr and "12" in bad.stderr
    unknown = inst.cli("settings", "get", "users.no_such_thing", check=False)
    assert unknown.returncode == 3
    assert inst.cli("settings", "get", "users.code_length").stdout.strip() == "8"
    inst.cli("settings", "reset", "users.code_length")
    assert inst.cli("settings", "get", "users.code_length").stdout.strip() == "6"

    listed = {s["name"]: s for s in inst.cli_json("settings")}
    assert listed["jobs.retention_hours"]["default"] == "24"
    assert listed["users.unknown_sender_policy"]["allowed"]


def test_sender_rules(installation):
    inst = installation
    inst.cli("users", "rules", "block", "@Spam.Example")
    inst.cli("users", "rules", "allow", "@example.com")
    rules = inst.cli_json("users", "rules")
    assert {(r["kind"], r["pattern"]) for r in rules} == \
        {("block", "@spam.example"), ("allow", "@example.com")}
    dup = inst.cli("users", "rules", "block", "@spam.example", check=False)
    assert dup.returncode == 4
    inst.cli("users", "rules", "remove", "block", "@spam.example")
    gone = inst.cli("users", "rules", "remove", "block", "@spam.example", check=False)
    assert gone.returncode == 3
    bad = inst.cli("users", "rules", "allow", "no at sign", check=False)
    assert bad.returncode == 2


def test_company_code(installation):
    inst = installation
    code = inst.cli("company-code").stdout.strip()
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{6}", code)
    assert inst.cli("company-code").stdout.strip() == code
    fresh = inst.cli("company-code", "--regenerate").stdout.strip()
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{6}", fresh) and fresh != code


def test_admin_password_and_audit(installation, server_factory):
    inst = installation
    srv = server_factory(inst)
    srv.stop()
    short = inst.cli("admin", "passwd", input="short\n", check=False)
    assert short.returncode == 2
    inst.cli("admin", "passwd", input="a much longer passphrase\n")
    inst.cli("admin", "add", "operator", input="another long passphrase\n")
    assert {a["name"] for a in inst.cli_json("admin", "list")} == {"admin", "operator"}
    missing = inst.cli("admin", "passwd", "nobody", input="whatever whatever\n", check=False)
    assert missing.returncode == 3

    inst.cli("users", "add", "dave@example.com")
    actions = [e["action"] for e in inst.cli_json("audit")]
    assert any(a.startswith("user.") for a in actions), actions
    assert any(a.startswith("admin.") for a in actions), actions
    # --limit N shows the newest N: adding Dave ended with issuing his code.
    newest = inst.cli_json("audit", "--limit", "1")
    assert [(e["action"], e["object"]) for e in newest] == [("code.issue", "dave@example.com")]
    audit_text = inst.cli("audit").stdout
    assert "a much longer passphrase" not in audit_text


def test_usage_errors_and_check_config(installation):
    inst = installation
    assert inst.cli("no-such-command", check=False).returncode == 2
    assert inst.cli("users", "frobnicate", "x", check=False).returncode in (2, 3)
    ok = inst.cli("check-config")
    assert "OK" in ok.stdout
    dump = inst.cli("check-config", "--dump").stdout
    assert "[http]" in dump and f"https_port = {inst.https_port}" in dump
    inst.write_config("[http]\nthreads = many\n")
    bad = inst.cli("check-config", check=False)
    assert bad.returncode == 5
    assert "[http] threads" in bad.stderr
