"""The company directory against a real OpenLDAP server (slapd_server.py: Debian's slapd on
loopback, LDAPS and StartTLS with a test CA): each sign-in mode (user name, address, AD's
sAMAccountName, DOMAIN\\name, userPrincipalName and proxyAddresses), injection attempts, a
wrong CA, group rules, the import (10,000 users, timed), disabling of leavers, on-boarding of
a mail sender through the sender policy, and the directory going down (status, log, IPP,
while email + confirmation code keeps working). Functional tests run on SQLite and
PostgreSQL."""

import json
import time

import pytest
import requests

from conftest import code_of, free_port
from ipp_wire import attr, ipp_request, ipp_status
from slapd_server import (ADMIN_GROUP, PRINT_GROUP, SUFFIX, SVC_DN, SVC_PW, group,
                          make_slapd, person)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PEOPLE = "ou=people," + SUFFIX
AD = "ou=ad," + SUFFIX


def dn(uid, base=PEOPLE):
    return f"uid={uid},{base}"


def ad_user(uid, sam, upn, proxies, dept, groups, password, mail=None):
    lines = [f"dn: uid={uid},{AD}", "objectClass: inetOrgPerson", "objectClass: ppTestAdUser",
             f"uid: {uid}", f"cn: {uid}", f"sn: {uid}", f"displayName: {uid.title()} AD",
             f"sAMAccountName: {sam}", f"userPrincipalName: {upn}", f"department: {dept}",
             f"userPassword: {password}"]
    lines += [f"proxyAddresses: {p}" for p in proxies]
    lines += [f"memberOf: {g}" for g in groups]
    if mail:
        lines.append(f"mail: {mail}")
    return "\n".join(lines) + "\n\n"


def small_ldif():
    ldif = person("alice", "alice@example.com", "Alice Smith", "Sales", "CC-100", "alice-pw-1")
    ldif += person("bob", "bob@example.com", "Bob Jones", "IT", "CC-200", "bob-pw-1")
    ldif += person("carol", "carol@example.com", "Carol King", "Ops", "CC-300", "carol-pw-1")
    ldif += person("dave", None, "Dave NoMail", "Ops", "CC-300", "dave-pw-1")
    ldif += person("frank", "frank@example.com", "Frank New", "Legal", "CC-400", "frank-pw-1")
    ldif += ad_user("eve", "eve.ad", "eve.upn@corp.example.com",
                    ["SMTP:eve@example.com", "smtp:eve.alias@example.com"], "Finance",
                    [PRINT_GROUP], "eve-pw-1")
    ldif += group("printers", [dn("alice"), dn("bob"), dn("dave"), dn("frank")])
    ldif += group("admins", [dn("bob")])
    return ldif


@pytest.fixture(scope="module")
def ldap():
    s = make_slapd(small_ldif())
    yield s
    s.cleanup()


def add_directory(inst, ldap, name="corp", uri=None, ca=None, extra=(), base=PEOPLE):
    args = ["directory", "add", name, "--uri", uri or ldap.ldaps_uri, "--base", base,
            "--ca-file", ca or ldap.ca, "--bind-dn", SVC_DN, "--bind-password-stdin",
            "--print-group", PRINT_GROUP, "--admin-group", ADMIN_GROUP, *extra]
    return inst.cli(*args, input=SVC_PW + "\n")


def signin(inst, login, password, check_rc=None):
    proc = inst.cli("--json", "directory", "signin-test", login, check=False,
                    input=password + "\n")
    if check_rc is not None:
        assert proc.returncode == check_rc, (login, proc.stdout, proc.stderr)
    return json.loads(proc.stdout) if proc.stdout.strip() else None, proc


def users(inst):
    return {u["email"]: u for u in inst.cli_json("users", "list")}


def test_signin_modes(installation, ldap):
    inst = installation
    add_directory(inst, ldap)
    assert "OK" in inst.cli("directory", "test").stdout
    # The service password is stored encrypted: not in the database file in clear.
    listing = inst.cli("--json", "directory", "list").stdout
    assert SVC_PW not in listing

    res, _ = signin(inst, "alice", "alice-pw-1", 0)
    assert (res["outcome"], res["email"], res["display_name"], res["department"],
            res["cost_centre"], res["created"]) == (
        "ok", "alice@example.com", "Alice Smith", "Sales", "CC-100", True)
    res, _ = signin(inst, "ALICE@example.com", "alice-pw-1", 0)
    assert res["email"] == "alice@example.com" and not res["created"]
    res, _ = signin(inst, "bob", "bob-pw-1", 0)
    assert res["admin"] is True

    for login, password, reason in [("alice", "wrong", "wrong password"),
                                    ("alice", "", "empty password"),
                                    ("carol", "carol-pw-1", "print group"),
                                    ("dave", "dave-pw-1", "no usable mail"),
                                    ("nobody", "x", "no such user")]:
        res, _ = signin(inst, login, password, 3)
        assert reason in res["reason"], (login, res)
    assert users(inst)["alice@example.com"]["state"] == "enabled"
    assert "carol@example.com" not in users(inst)

    # Active Directory: sAMAccountName, DOMAIN\name, UPN and a proxyAddresses alias.
    add_directory(inst, ldap, name="ad", base=AD,
                  extra=("--type", "ad", "--filter", "(objectClass=ppTestAdUser)",
                         "--map", "email=mail,department=department"))
    for login in ["eve.ad", "CORP\\eve.ad", "eve.upn@corp.example.com",
                  "eve.alias@example.com", "eve@example.com"]:
        res, proc = signin(inst, login, "eve-pw-1", 0)
        assert (res["email"], res["department"], res["directory"]) == (
            "eve@example.com", "Finance", "ad"), (login, proc.stderr)
    signin(inst, "eve.ad", "alice-pw-1", 3)


INJECTIONS = ["*", "a*", "*)(uid=*", "alice)(|(uid=*", ")(", "alice)(uid=bob", "\\2a",
              "*)(objectClass=*))(|(uid=*", "(uid=*)"]


def test_injection_attempts_fail_and_match_nobody(sqlite_installation, ldap):
    inst = sqlite_installation
    add_directory(inst, ldap)
    before = users(inst)
    for login in INJECTIONS:
        for password in ["alice-pw-1", "bob-pw-1", "*"]:
            res, proc = signin(inst, login, password)
            assert proc.returncode == 3, (login, proc.stdout, proc.stderr)
            assert res["outcome"] in ("not found", "denied"), (login, res)
            assert res["email"] == ""
    assert users(inst) == before


def test_starttls_and_a_wrong_ca(sqlite_installation, ldap):
    inst = sqlite_installation
    add_directory(inst, ldap, name="stls", uri=ldap.ldap_uri, extra=("--starttls",))
    assert "OK" in inst.cli("directory", "test", "stls").stdout
    signin(inst, "alice", "alice-pw-1", 0)
    # ldap:// without StartTLS would send passwords in clear: refused at add.
    proc = inst.cli("directory", "add", "clear", "--uri", ldap.ldap_uri, "--base", PEOPLE,
                    check=False)
    assert proc.returncode == 2 and "StartTLS" in proc.stderr.replace("starttls", "StartTLS")

    for name, uri, extra in [("badca", ldap.ldaps_uri, ()),
                             ("badca-stls", ldap.ldap_uri, ("--starttls",))]:
        add_directory(inst, ldap, name=name, uri=uri, ca=ldap.other_ca, extra=extra)
        proc = inst.cli("directory", "test", name, check=False)
        assert proc.returncode == 1
        assert "certificate" in proc.stderr and "--ca-file" in proc.stderr, proc.stderr
        inst.cli("directory", "remove", name)


def test_import_group_rules_and_leavers(installation, ldap, tmp_path):
    inst = installation
    add_directory(inst, ldap)
    stats = inst.cli_json("directory", "import", "corp")
    assert (stats["imported"], stats["enabled"], stats["disabled_by_group"], stats["admins"],
            stats["skipped"]) == (4, 3, 1, 1, 1), stats
    u = users(inst)
    assert u["alice@example.com"]["state"] == "enabled"
    assert u["alice@example.com"]["department"] == "Sales"
    assert u["bob@example.com"]["state"] == "enabled"
    assert u["carol@example.com"]["state"] == "disabled"
    assert "dave" not in json.dumps(u)

    # A leaver (alice) is disabled; carol joins the print group and is enabled.
    ldap.delete(dn("alice"))
    ldap.modify("ldapmodify", f"dn: {PRINT_GROUP}\nchangetype: modify\nadd: member\n"
                              f"member: {dn('carol')}\n")
    try:
        stats = inst.cli_json("directory", "import", "corp")
        assert stats["disabled_left"] == 1, stats
        u = users(inst)
        assert u["alice@example.com"]["state"] == "disabled"
        assert u["carol@example.com"]["state"] == "enabled"
        signin(inst, "alice", "alice-pw-1", 3)
    finally:
        ldap.modify("ldapadd", person("alice", "alice@example.com", "Alice Smith", "Sales",
                                      "CC-100", "alice-pw-1"))
        ldap.modify("ldapmodify", f"dn: {PRINT_GROUP}\nchangetype: modify\ndelete: member\n"
                                  f"member: {dn('carol')}\n")
    status = inst.cli("directory", "status").stdout
    assert "corp" in status and "imported" in status


def test_onboarding_by_mail(installation, ldap):
    inst = installation
    inst.cli("settings", "set", "users.unknown_sender_policy", "reject")
    add_directory(inst, ldap)
    out = inst.cli_json("directory", "sender-test", "Frank@Example.com")
    assert (out["decision"], out["created"], out["state"], out["department"]) == (
        "accept", True, "enabled", "Legal"), out
    # Known to the directory but not in the print group: refused, no account.
    out = inst.cli_json("directory", "sender-test", "carol@example.com")
    assert out["decision"] == "reject" and out["email"] == ""
    # Unknown to the directory: the unknown-sender policy decides (reject, then hold).
    assert inst.cli_json("directory", "sender-test", "stranger@example.com")["decision"] == "reject"
    inst.cli("settings", "set", "users.unknown_sender_policy", "hold")
    assert inst.cli_json("directory", "sender-test", "stranger@example.com")["decision"] == "hold"


def test_import_of_10000_users(sqlite_installation, tmp_path):
    n = 10000
    ldif = "".join(person(f"u{i:05d}", f"u{i:05d}@example.com", f"User {i}", f"Dept {i % 50}",
                          f"CC-{i % 20}", None) for i in range(n))
    ldif += group("printers", [dn(f"u{i:05d}") for i in range(0, n, 2)])
    ldif += group("admins", [dn("u00000")])
    s = make_slapd(ldif)
    try:
        inst = sqlite_installation
        add_directory(inst, s)
        t0 = time.monotonic()
        stats = inst.cli_json("directory", "import", "corp")
        wall = time.monotonic() - t0
        print(f"\nimport of {n} users: {stats['elapsed_ms']} ms in the import, "
              f"{wall:.2f} s for the whole command")
        assert (stats["imported"], stats["enabled"], stats["disabled_by_group"]) == (
            n, n // 2, n // 2)
        assert wall < 60  # generous: the target (< 10 s) is measured by bench/directory_signin
        t0 = time.monotonic()
        stats = inst.cli_json("directory", "import", "corp")
        print(f"re-import of {n} users: {stats['elapsed_ms']} ms")
        assert stats["created"] == 0 and stats["disabled_left"] == 0
    finally:
        s.cleanup()


def print_body(uri):
    operation = attr(0x49, "document-format", b"application/pdf")
    return ipp_request(0x0002, uri, operation) + PDF


def test_directory_down(installation, server_factory, tmp_path):
    s = make_slapd(small_ldif())
    try:
        inst = installation
        add_directory(inst, s)
        srv = server_factory(inst)
        uri = f"ipps://127.0.0.1:{inst.https_port}/ipp/print"
        headers = {"Content-Type": "application/ipp"}

        def post(auth):
            return srv.request("POST", "/ipp/print", data=print_body(uri), auth=auth,
                               headers=headers)

        # Directory sign-in over IPP: user name or address + directory password.
        for login in ["alice", "bob@example.com"]:
            r = post((login, login.split("@")[0] + "-pw-1"))
            assert r.status_code == 200 and ipp_status(r.content) == 0, (login, r.status_code)
        assert post(("alice", "wrong")).status_code == 401
        assert post(("alice\x00x", "alice-pw-1")).status_code == 401
        assert post(("*", "alice-pw-1")).status_code == 401
        code = code_of(inst.cli("users", "add", "zoe@example.com").stdout)

        s.stop()
        proc = inst.cli("directory", "status", check=False)
        assert proc.returncode == 1
        assert "unreachable" in proc.stdout and "Can't contact" in proc.stdout, proc.stdout
        r = post(("alice", "alice-pw-1"))
        assert r.status_code == 503, r.status_code
        # Email + confirmation code does not need the directory.
        r = post(("zoe@example.com", code))
        assert r.status_code == 200 and ipp_status(r.content) == 0
        assert "directory.unavailable" in srv.stderr()
        assert "alice-pw-1" not in srv.stderr() and SVC_PW not in srv.stderr()
    finally:
        s.cleanup()
