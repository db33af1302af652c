"""The admin API (/api/v1/admin/) end to end: the real pullprintd over HTTPS, driven the way
the admin console drives it (python3-requests), on SQLite and PostgreSQL.

What an admin would check: signing in gives a browser-session cookie (HttpOnly, Secure,
SameSite=Strict) and a CSRF token; a write without the token is refused; the dashboard,
settings (a bad value says what is allowed), company code, printers (add, edit, panel token
with its QR code, test page), users (add, approve, disable, enable, new code, delete), jobs
(search, cancel, delete), reports and the accounting export (CSV, pseudonymised), the audit
log (search, CSV) and admin accounts all answer; every change is in the audit log; a help
desk account reads everything and changes nothing; sign-out ends the session; wrong
passwords are throttled (429 + Retry-After).
"""

import csv
import io
import re

import pytest
import requests

from conftest import Installation

ADMIN = "boss"
ADMIN_PW = "correct horse battery"
DESK = "desk"
DESK_PW = "helpdesk password 1"
BASE = "/api/v1/admin/"


class Console:
    """One browser: a cookie jar and the CSRF token of its session."""

    def __init__(self, srv):
        self.srv = srv
        self.http = requests.Session()
        self.csrf = None

    def __call__(self, method, path, csrf=True, **kw):
        headers = dict(kw.pop("headers", {}))
        if csrf and self.csrf and method not in ("GET", "HEAD"):
            headers["X-CSRF-Token"] = self.csrf
        return self.http.request(method, self.srv.url + BASE + path, headers=headers,
                                 verify=self.srv.ca, timeout=60, **kw)

    def login(self, name, password):
        r = self("POST", "login", json={"name": name, "password": password})
        assert r.status_code == 200, r.text
        self.csrf = r.json()["csrf_token"]
        return r


def error_code(r):
    return r.json()["error"]["code"]


@pytest.fixture
def admin_server(installation, server_factory):
    installation.cli("admin", "add", ADMIN, input=ADMIN_PW + "\n")
    return server_factory(installation)


def test_admin_console_api(admin_server, installation):
    srv = admin_server
    boss = Console(srv)

    # Not signed in: 401 everywhere but login.
    r = boss("GET", "session")
    assert r.status_code == 401 and error_code(r) == "not_signed_in"
    assert boss("GET", "dashboard").status_code == 401
    r = boss("POST", "login", json={"name": ADMIN, "password": "wrong password!"})
    assert r.status_code == 401 and error_code(r) == "invalid_credentials"

    r = boss.login(ADMIN, ADMIN_PW)
    body = r.json()
    assert body["admin"] == {"name": ADMIN, "role": "admin"}
    assert body["idle_timeout_s"] == 900
    cookie = r.headers["Set-Cookie"]
    assert cookie.startswith("pp_admin=pps_")
    for attribute in ("HttpOnly", "Secure", "SameSite=Strict", "Path=/"):
        assert attribute in cookie
    assert "Max-Age" not in cookie and "Expires" not in cookie
    assert ADMIN_PW not in srv.stderr()

    # The CSRF token is given again after a reload.
    r = boss("GET", "session")
    assert r.status_code == 200 and r.json()["csrf_token"] == boss.csrf

    # A write without (or with a wrong) CSRF token is refused.
    r = boss("POST", "company-code/regenerate", csrf=False)
    assert r.status_code == 403 and error_code(r) == "csrf"
    r = boss("POST", "company-code/regenerate", csrf=False,
             headers={"X-CSRF-Token": "ppc_" + "0" * 64})
    assert r.status_code == 403
    old = boss("GET", "company-code").json()["code"]
    r = boss("POST", "company-code/regenerate")
    assert r.status_code == 200
    new = r.json()["code"]
    assert new != old and re.fullmatch(r"[A-Z2-9]{6}", new)
    assert boss("GET", "company-code").json()["code"] == new

    # Dashboard.
    r = boss("GET", "dashboard")
    assert r.status_code == 200, r.text
    dash = r.json()
    for state in ("received", "converting", "held", "releasing", "printing", "completed",
                  "failed"):
        assert dash["jobs"][state] == 0
    assert dash["conversions_running"] == 0
    assert dash["printers"] == [] and dash["recent_failures"] == []
    assert dash["mail"] == [] and dash["directory"] == []

    # Settings: list, change, refuse a bad value with what is allowed.
    r = boss("GET", "settings")
    items = {s["name"]: s for s in r.json()["items"]}
    assert r.json()["total"] == len(items)
    assert items["jobs.retention_hours"]["value"] == "24"
    assert items["jobs.retention_hours"]["type"] == "int"
    assert items["admin.idle_timeout_s"]["default"] == "900"
    r = boss("PUT", "settings/jobs.retention_hours", json={"value": "48"})
    assert r.status_code == 200, r.text
    assert r.json()["value"] == "48" and r.json()["default"] == "24"
    r = boss("PUT", "settings/jobs.retention_hours", json={"value": "0"})
    assert r.status_code == 400 and error_code(r) == "invalid_value"
    assert "1..8760" in r.json()["error"]["message"]
    r = boss("PUT", "settings/users.unknown_sender_policy", json={"value": "maybe"})
    assert r.status_code == 400 and "accept" in r.json()["error"]["message"]
    assert boss("PUT", "settings/no.such", json={"value": "1"}).status_code == 404
    assert boss("GET", "mail-accounts").json() == {"items": [], "total": 0}
    assert boss("POST", "mail-accounts/none/test").status_code == 404

    # Printers.
    r = boss("POST", "printers", json={"name": "Floor2", "uri": "ipp://127.0.0.1:9/ipp/print",
                                       "location": "Floor 2", "group": "floor"})
    assert r.status_code == 201, r.text
    printer = r.json()
    assert printer["name"] == "Floor2" and printer["alias"] == "floor2"
    assert printer["enabled"] is True and printer["has_panel_token"] is False
    assert printer["state"] == "unknown" and printer["reasons"] == []
    pid = printer["id"]
    r = boss("POST", "printers", json={"name": "Floor2", "uri": "ipp://127.0.0.1:9/x"})
    assert r.status_code == 409 and error_code(r) == "exists"
    r = boss("POST", "printers", json={"name": "Bad", "uri": "http://x/"})
    assert r.status_code == 400 and "ipp" in r.json()["error"]["message"]
    r = boss("PATCH", f"printers/{pid}", json={"description": "by the window",
                                               "enabled": False})
    assert r.status_code == 200 and r.json()["description"] == "by the window"
    assert r.json()["enabled"] is False
    r = boss("POST", f"printers/{pid}/test-page")
    assert r.status_code == 409
    boss("PATCH", f"printers/{pid}", json={"enabled": True})
    r = boss("POST", f"printers/{pid}/panel-token")
    assert r.status_code == 200, r.text
    panel = r.json()
    assert panel["token"].startswith("ppk_")
    assert panel["url"].endswith("/panel/?t=" + panel["token"])
    assert panel["qr_svg"].startswith("<svg") and "<rect" in panel["qr_svg"]
    assert "<script" not in panel["qr_svg"] and "style=" not in panel["qr_svg"]
    assert panel["token"] not in srv.stderr()
    listed = boss("GET", "printers").json()
    assert listed["total"] == 1 and listed["items"][0]["has_panel_token"] is True
    r = boss("POST", f"printers/{pid}/test-page")
    assert r.status_code == 202, r.text
    test_job = r.json()["job_id"]
    assert boss("GET", "printers/999/test-page").status_code == 405
    assert boss("DELETE", "printers/999").status_code == 404

    # Jobs: the test page is there, searchable by printer and state.
    r = boss("GET", "jobs", params={"printer": "Floor2"})
    assert r.status_code == 200, r.text
    jobs = r.json()
    assert jobs["total"] == 1 and jobs["items"][0]["id"] == test_job
    job = jobs["items"][0]
    assert job["printer"] == "Floor2" and job["state"] == "received"
    assert job["name"] == "Pullprint test page"
    assert boss("GET", "jobs", params={"state": "held"}).json()["total"] == 0
    assert boss("GET", "jobs", params={"state": "nonsense"}).status_code == 400
    assert boss("GET", "jobs", params={"from": "soon"}).status_code == 400
    assert boss("GET", "jobs", params={"limit": "501"}).status_code == 400
    r = boss("POST", f"jobs/{test_job}/cancel")
    assert r.status_code == 200 and r.json()["state"] == "canceled"
    assert boss("POST", f"jobs/{test_job}/cancel").status_code == 409
    assert boss("POST", f"jobs/{test_job}/reprint", json={"printer_id": pid}).status_code == 409
    assert boss("DELETE", f"jobs/{test_job}").status_code == 204
    assert boss("DELETE", f"jobs/{test_job}").status_code == 404

    # Users.
    r = boss("POST", "users", json={"email": "Ann@Example.com", "display_name": "Ann"})
    assert r.status_code == 201, r.text
    ann = r.json()
    assert ann["email"] == "ann@example.com" and ann["state"] == "active"
    assert ann["source"] == "local" and ann["jobs"] == 0 and "code" not in ann
    assert boss("POST", "users", json={"email": "ann@example.com"}).status_code == 409
    r = boss("POST", "users", json={"email": "not an address"})
    assert r.status_code == 400 and error_code(r) == "invalid_value"
    installation.cli("users", "add", "pat@example.com", "--pending")
    r = boss("GET", "users", params={"state": "pending"})
    assert [u["email"] for u in r.json()["items"]] == ["pat@example.com"]
    pat = r.json()["items"][0]
    r = boss("POST", f"users/{pat['id']}/approve")
    assert r.status_code == 200 and r.json()["state"] == "active"
    assert boss("POST", f"users/{pat['id']}/approve").status_code == 409
    assert boss("POST", f"users/{ann['id']}/disable").json()["state"] == "disabled"
    assert boss("POST", f"users/{ann['id']}/enable").json()["state"] == "active"
    r = boss("POST", f"users/{ann['id']}/new-code")
    assert r.status_code == 200 and "code" not in r.json()
    r = boss("GET", "users", params={"q": "ANN"})
    assert [u["email"] for u in r.json()["items"]] == ["ann@example.com"]
    assert boss("GET", "users", params={"state": "sleeping"}).status_code == 400
    assert boss("DELETE", f"users/{pat['id']}").status_code == 204
    assert boss("POST", f"users/{pat['id']}/enable").status_code == 404

    # Reports and the accounting export (nothing printed yet: the shape).
    r = boss("GET", "reports", params={"by": "month"})
    assert r.status_code == 200, r.text
    assert r.json()["by"] == "month" and r.json()["rows"] == []
    assert r.json()["totals"]["pages"] == 0
    assert boss("GET", "reports", params={"by": "colour"}).status_code == 400
    r = boss("GET", "reports", params={"by": "user", "format": "csv"})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in r.headers["Content-Disposition"]
    assert r.text.splitlines()[0] == ("user,jobs,pages,mono_pages,colour_pages,"
                                      "simplex_pages,duplex_pages")
    r = boss("GET", "accounting/export", params={"format": "csv", "pseudonymise": "1"})
    assert r.status_code == 200 and r.text.startswith("job_uuid,")
    r = boss("GET", "accounting/export", params={"format": "json"})
    assert r.status_code == 200 and r.json() == []
    assert boss("GET", "accounting/export", params={"pseudonymise": "yes"}).status_code == 400

    # Admin accounts and the help desk role.
    r = boss("POST", "admins", json={"name": DESK, "password": DESK_PW, "role": "helpdesk"})
    assert r.status_code == 201, r.text
    assert r.json()["role"] == "helpdesk"
    assert boss("POST", "admins", json={"name": DESK, "password": DESK_PW}).status_code == 409
    r = boss("POST", "admins", json={"name": "x", "password": "short"})
    assert r.status_code == 400 and "12" in r.json()["error"]["message"]
    r = boss("POST", "admins", json={"name": "y", "password": DESK_PW, "role": "root"})
    assert r.status_code == 400
    names = {a["name"]: a["role"] for a in boss("GET", "admins").json()["items"]}
    assert names == {ADMIN: "admin", DESK: "helpdesk"}
    r = boss("DELETE", f"admins/{ADMIN}")
    assert r.status_code == 409 and error_code(r) == "refused"

    desk = Console(srv)
    assert desk.login(DESK, DESK_PW).json()["admin"]["role"] == "helpdesk"
    assert desk.csrf != boss.csrf
    for path in ("dashboard", "settings", "company-code", "printers", "users", "jobs",
                 "reports", "audit", "admins", "mail-accounts"):
        assert desk("GET", path).status_code == 200, path
    for method, path, body in (("PUT", "settings/jobs.retention_hours", {"value": "12"}),
                               ("POST", "company-code/regenerate", None),
                               ("POST", "printers", {"name": "P", "uri": "ipp://h/"}),
                               ("DELETE", f"printers/{pid}", None),
                               ("POST", f"users/{ann['id']}/disable", None),
                               ("DELETE", f"admins/{ADMIN}", None)):
        r = desk(method, path, json=body)
        assert r.status_code == 403 and error_code(r) == "read_only", (method, path)
    # Another admin's CSRF token is not this session's.
    r = desk("PUT", "settings/jobs.retention_hours", csrf=False,
             headers={"X-CSRF-Token": boss.csrf}, json={"value": "12"})
    assert r.status_code == 403 and error_code(r) == "csrf"
    assert boss("GET", "settings").json()["items"] is not None
    assert desk("POST", "logout").status_code == 204
    assert desk("GET", "dashboard").status_code == 401

    # Audit log: every change is there with the admin's name; searchable; CSV.
    r = boss("GET", "audit", params={"actor": ADMIN, "limit": 500})
    assert r.status_code == 200
    actions = {e["action"] for e in r.json()["items"]}
    for action in ("setting.set", "printer.add", "printer.test_page", "user.add",
                   "user.approve", "user.delete", "admin.add", "admin.login"):
        assert action in actions, (action, actions)
    at = [e["at"] for e in r.json()["items"]]
    assert at == sorted(at, reverse=True)
    r = boss("GET", "audit", params={"q": "retention"})
    assert r.json()["total"] >= 1
    assert all("retention" in (e["object"] + e["detail"] + e["action"]).lower()
               for e in r.json()["items"])
    r = boss("GET", "audit", params={"format": "csv"})
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0] == ["at", "actor", "action", "object", "detail"] and len(rows) > 5
    assert ADMIN_PW not in r.text and DESK_PW not in r.text and panel["token"] not in r.text

    assert boss("DELETE", f"admins/{DESK}").status_code == 204
    assert boss("DELETE", f"printers/{pid}").status_code == 204
    assert boss("GET", "nonsense").status_code == 404

    # Sign-out ends the session and clears the cookie.
    r = boss("POST", "logout")
    assert r.status_code == 204 and "Max-Age=0" in r.headers["Set-Cookie"]
    boss.http.cookies.clear()
    assert boss("GET", "session").status_code == 401
    for secret in (ADMIN_PW, DESK_PW, panel["token"]):
        assert secret not in srv.stderr()


def test_admin_login_throttled(admin_server):
    console = Console(admin_server)
    codes = []
    for _ in range(8):
        r = console("POST", "login", json={"name": ADMIN, "password": "not the password"})
        codes.append(r.status_code)
        if r.status_code == 429:
            assert int(r.headers["Retry-After"]) >= 1
            assert error_code(r) == "throttled"
            break
    assert codes[0] == 401 and codes[-1] == 429, codes
    # Locked: even the right password waits.
    r = console("POST", "login", json={"name": ADMIN, "password": ADMIN_PW})
    assert r.status_code == 429


def test_admin_cli_faces(sqlite_installation):
    """The console's actions on the command line: roles and reports."""
    inst = sqlite_installation
    inst.cli("admin", "add", ADMIN, input=ADMIN_PW + "\n")
    inst.cli("admin", "add", DESK, "--role", "helpdesk", input=DESK_PW + "\n")
    listed = {a["name"]: a["role"] for a in inst.cli_json("admin", "list")}
    assert listed == {ADMIN: "admin", DESK: "helpdesk"}
    r = inst.cli("admin", "role", ADMIN, "helpdesk", check=False)
    assert r.returncode == 4 and "last full admin" in r.stderr
    r = inst.cli("admin", "delete", ADMIN, check=False)
    assert r.returncode == 4
    inst.cli("admin", "role", DESK, "admin")
    inst.cli("admin", "delete", DESK)
    assert inst.cli("admin", "delete", DESK, check=False).returncode == 3
    out = inst.cli("reports", "--by", "week", "--csv").stdout
    assert out.splitlines()[0] == ("week,jobs,pages,mono_pages,colour_pages,simplex_pages,"
                                   "duplex_pages")
    report = inst.cli_json("reports", "--by", "source")
    assert report["by"] == "source" and report["rows"] == []
    assert inst.cli("reports", "--by", "colour", check=False).returncode == 2


# ---- directory admins and reprint (issue 8) ----

import time  # noqa: E402

from printers_fixture import printer_farm  # noqa: E402,F401 (a fixture)
from slapd_server import (ADMIN_GROUP, PRINT_GROUP, ROOT_DN, SUFFIX, SVC_DN,  # noqa: E402
                          SVC_PW, group, make_slapd, person)

DIR_PEOPLE = "ou=people," + SUFFIX


def directory_ldif():
    ldif = person("dana", "dana@example.com", "Dana Admin", "IT", "CC-1", "dana-pw-1")
    ldif += person("nick", "nick@example.com", "Nick Member", "Sales", "CC-2", "nick-pw-1")
    ldif += group("printers", [f"uid=dana,{DIR_PEOPLE}", f"uid=nick,{DIR_PEOPLE}"])
    ldif += group("admins", [f"uid=dana,{DIR_PEOPLE}"])
    return ldif


def test_admin_directory_signin(installation, server_factory):
    """A member of the directory's admin group signs in with directory credentials and
    changes a setting; others are refused; leaving the group ends it; a directory that is
    down answers 503 while local admins still sign in."""
    ldap = make_slapd(directory_ldif())
    try:
        inst = installation
        inst.cli("admin", "add", ADMIN, input=ADMIN_PW + "\n")
        inst.cli("directory", "add", "corp", "--uri", ldap.ldaps_uri, "--base", DIR_PEOPLE,
                 "--ca-file", ldap.ca, "--bind-dn", SVC_DN, "--bind-password-stdin",
                 "--print-group", PRINT_GROUP, "--admin-group", ADMIN_GROUP,
                 input=SVC_PW + "\n")
        # Room for the refusals below from one address (the default locks at 5).
        inst.cli("settings", "set", "auth.max_failures", "20")
        srv = server_factory(inst)

        dana = Console(srv)
        body = dana.login("dana", "dana-pw-1").json()
        assert body["admin"] == {"name": "dir:dana@example.com", "role": "admin"}
        r = dana("PUT", "settings/jobs.retention_hours", json={"value": "36"})
        assert r.status_code == 200 and r.json()["value"] == "36", r.text
        # The address works as the login too, and lands on the same account.
        assert Console(srv).login("dana@example.com", "dana-pw-1").json()["admin"]["name"] == \
            "dir:dana@example.com"

        boss = Console(srv)
        boss.login(ADMIN, ADMIN_PW)
        r = boss("GET", "audit", params={"actor": "dir:dana@example.com", "limit": 500})
        entries = r.json()["items"]
        assert {"admin:dir:dana@example.com"} == {e["actor"] for e in entries}
        assert "setting.set" in {e["action"] for e in entries}
        assert "admin.login" in {e["action"] for e in entries}

        # Right password, not in the admin group; wrong password; nobody: all 401.
        for login, password in [("nick", "nick-pw-1"), ("dana", "wrong-pw"),
                                ("nobody", "whatever-1")]:
            r = Console(srv)("POST", "login", json={"name": login, "password": password})
            assert r.status_code == 401 and error_code(r) == "invalid_credentials", \
                (login, r.text)
        # A shadow account never signs in with a local password.
        r = Console(srv)("POST", "login", json={"name": "dir:dana@example.com",
                                                "password": "!directory"})
        assert r.status_code == 401

        # Membership is read at each sign-in, not from the last import: dana leaves the
        # admin group, cannot sign in any more, and her open session ends.
        ldap.modify("ldapmodify", f"dn: {ADMIN_GROUP}\nchangetype: modify\n"
                                  f"replace: member\nmember: {ROOT_DN}\n")
        r = Console(srv)("POST", "login", json={"name": "dana", "password": "dana-pw-1"})
        assert r.status_code == 401, r.text
        assert dana("GET", "session").status_code == 401

        # The directory goes down: 503 saying so; local admins still sign in.
        ldap.stop()
        r = Console(srv)("POST", "login", json={"name": "dana", "password": "dana-pw-1"})
        assert r.status_code == 503 and error_code(r) == "directory_unavailable", r.text
        assert "local admin" in r.json()["error"]["message"]
        assert Console(srv).login(ADMIN, ADMIN_PW).status_code == 200
        for secret in ("dana-pw-1", "nick-pw-1", SVC_PW, ADMIN_PW):
            assert secret not in srv.stderr()
    finally:
        ldap.cleanup()


def wait_job(console, job_id, states, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        items = console("GET", "jobs", params={"limit": 500}).json()["items"]
        job = next((j for j in items if j["id"] == job_id), None)
        if job is not None and job["state"] in states:
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not reach {states}: {job}")


def test_admin_reprint_finished_job(tmp_path, server_factory, printer_farm):  # noqa: F811
    """With jobs.printed_policy = keep a printed job is printed again as a new job; without
    kept documents the answer says they are gone and which setting keeps them."""
    inst = Installation(str(tmp_path / "inst"), convert=True, workers=1)
    inst.write_config(extra="[jobs]\nsweep_interval_s = 1\n")
    inst.cli("admin", "add", ADMIN, input=ADMIN_PW + "\n")
    inst.cli("settings", "set", "jobs.printed_policy", "keep")
    hall = printer_farm.eve("hall", "application/pdf,image/pwg-raster")
    srv = server_factory(inst)
    boss = Console(srv)
    boss.login(ADMIN, ADMIN_PW)
    r = boss("POST", "printers", json={"name": "Hall", "uri": hall.uri})
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    r = boss("POST", f"printers/{pid}/test-page")
    assert r.status_code == 202, r.text
    first = r.json()["job_id"]
    wait_job(boss, first, ("completed",))
    hall.wait_jobs(1)

    r = boss("POST", f"jobs/{first}/reprint", json={"printer_id": pid})
    assert r.status_code == 202, r.text
    again = r.json()
    assert again["id"] != first and again["source"] == "reprint"
    assert again["printer_id"] == pid
    assert wait_job(boss, again["id"], ("completed",))["name"] == "Pullprint test page"
    assert len(hall.wait_jobs(2)) == 2
    assert wait_job(boss, first, ("completed",))["state"] == "completed"
    actions = [(e["action"], e["object"]) for e in
               boss("GET", "audit", params={"q": "reprint"}).json()["items"]]
    assert ("job.reprint", f"job:{first}") in actions

    # The command line's face: the same function.
    out = inst.cli("jobs", "reprint", str(first), "--printer", "hall").stdout
    assert "reprinted as job" in out
    assert len(hall.wait_jobs(3)) == 3

    # Documents not kept (policy delete: the next sweep drops them): 409 saying so.
    inst.cli("settings", "set", "jobs.printed_policy", "delete")
    time.sleep(4)  # a few sweeps (one a second here)
    r = boss("POST", f"jobs/{first}/reprint", json={"printer_id": pid})
    assert r.status_code == 409 and error_code(r) == "documents_gone", r.text
    assert "jobs.printed_policy" in r.json()["error"]["message"]
    proc = inst.cli("jobs", "reprint", str(first), "--printer", "hall", check=False)
    assert proc.returncode == 4 and "printed_policy" in proc.stderr
