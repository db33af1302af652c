"""Who may print over IPP, against the real server: plain IPP (the [http] http_port listener)
is refused unless the peer is in ipp.trusted_networks, and then the job lands in the queue of
the user that requesting-user-name names through ipp.user_map; credentials sent over plain
HTTP are refused without being checked; a forwarder (CUPS backend) token names the user over
IPPS; a wrong Bearer is a 401. Driven by CUPS's ipptool and a small IPP encoder; every test
runs on SQLite and on PostgreSQL."""

import re

import pytest
import requests
import subprocess

from conftest import code_of, free_port
from ipp_wire import attr, ipp_request, ipp_status

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

# ipptool's status line for a test that passed / failed.
PASS = re.compile(r"\[PASS\]")
FAIL = re.compile(r"^.*\[FAIL\].*$", re.M)


def print_job_body(uri, user=None):
    """Print-Job of PDF for printer uri, naming user in requesting-user-name if given."""
    operation = attr(0x42, "requesting-user-name", user.encode()) if user is not None else b""
    operation += attr(0x49, "document-format", b"application/pdf")
    return ipp_request(0x0002, uri, operation) + PDF


FORBIDDEN = 0x0401
NOT_AUTHORIZED = 0x0403


class Site:
    """A server with both listeners: IPPS on https_port, plain IPP on http_port."""

    def __init__(self, inst, srv, http_port):
        self.inst, self.srv, self.http_port = inst, srv, http_port
        self.ipps = f"ipps://127.0.0.1:{inst.https_port}/ipp/print"
        self.ipp = f"ipp://127.0.0.1:{http_port}/ipp/print"

    def post_plain(self, body, auth=None, headers=None, path="/ipp/print"):
        h = {"Content-Type": "application/ipp"}
        h.update(headers or {})
        return requests.post(f"http://127.0.0.1:{self.http_port}{path}", data=body, auth=auth,
                             headers=h, timeout=30)

    def post_tls(self, body, auth=None, headers=None, path="/ipp/print"):
        h = {"Content-Type": "application/ipp"}
        h.update(headers or {})
        return self.srv.request("POST", path, data=body, auth=auth, headers=h)

    def jobs_of(self, email):
        return self.inst.cli_json("jobs", "--user", email)

    def ipptool_print(self, tmp_path, user, status, uri=None):
        """ipptool Print-Job naming user; passes when the answer's status is status."""
        test = tmp_path / f"print-as-{len(list(tmp_path.iterdir()))}.test"
        test.write_text(
            "{\n"
            f'\tNAME "Print-Job as {user}"\n'
            "\tOPERATION Print-Job\n"
            "\tGROUP operation-attributes-tag\n"
            "\tATTR charset attributes-charset utf-8\n"
            "\tATTR language attributes-natural-language en\n"
            "\tATTR uri printer-uri $uri\n"
            f'\tATTR name requesting-user-name "{user}"\n'
            "\tATTR mimeMediaType document-format application/pdf\n"
            "\tFILE $filename\n"
            f"\tSTATUS {status}\n"
            "}\n")
        pdf = tmp_path / "doc.pdf"
        pdf.write_bytes(PDF)
        proc = subprocess.run(["ipptool", "-t", "-T", "10", "-f", str(pdf), uri or self.ipp,
                               str(test)], capture_output=True, text=True, timeout=120)
        ok = PASS.search(proc.stdout) and not FAIL.search(proc.stdout)
        assert ok, proc.stdout + proc.stderr


@pytest.fixture
def site(installation, server_factory):
    inst = installation
    http_port = free_port()
    while http_port == inst.https_port:
        http_port = free_port()
    inst.write_config(f"http_port = {http_port}\n")
    srv = server_factory(inst)
    return Site(inst, srv, http_port)


def test_settings_are_listed_checked_and_audited(site):
    inst = site.inst
    rows = {s["name"]: s for s in inst.cli_json("settings")}
    assert rows["ipp.trusted_networks"]["value"] == ""
    assert rows["ipp.user_map"]["value"] == "{name}"
    # A bad network or a map without {name} is refused with what to write instead.
    bad = inst.cli("settings", "set", "ipp.trusted_networks", "intranet", check=False)
    assert bad.returncode != 0 and "10.0.0.0/8" in bad.stderr, bad.stderr
    bad = inst.cli("settings", "set", "ipp.user_map", "anna@example.com", check=False)
    assert bad.returncode != 0 and "{name}" in bad.stderr, bad.stderr
    # A good one is stored in canonical form.
    inst.cli("settings", "set", "ipp.trusted_networks", "10.1.2.3/8 ::1")
    assert inst.cli("settings", "get", "ipp.trusted_networks").stdout.strip() == \
        "10.0.0.0/8, ::1/128"
    inst.cli("settings", "reset", "ipp.trusted_networks")
    assert inst.cli("settings", "get", "ipp.trusted_networks").stdout.strip() == ""


def test_plain_ipp_needs_a_trusted_network(site, tmp_path):
    inst = site.inst
    inst.cli("users", "add", "anna@example.com")
    # Off by default: printer attributes answer, printing is client-error-forbidden.
    gpa = subprocess.run(["ipptool", "-t", "-T", "10", site.ipp, "get-printer-attributes.test"],
                         capture_output=True, text=True, timeout=120)
    assert PASS.search(gpa.stdout) and not FAIL.search(gpa.stdout), gpa.stdout
    site.ipptool_print(tmp_path, "anna@example.com", "client-error-forbidden")
    assert site.jobs_of("anna@example.com") == []

    # Another network than loopback's: still refused.
    inst.cli("settings", "set", "ipp.trusted_networks", "192.0.2.0/24")
    site.ipptool_print(tmp_path, "anna@example.com", "client-error-forbidden")

    # Loopback trusted: the job lands in the named user's queue.
    inst.cli("settings", "set", "ipp.trusted_networks", "127.0.0.0/8")
    site.ipptool_print(tmp_path, "Anna@Example.com", "successful-ok")
    jobs = site.jobs_of("anna@example.com")
    assert len(jobs) == 1 and jobs[0]["source"] == "ipp"
    # Naming a user is enough to submit for them, not to list or cancel all their jobs.
    for op in (0x000A, 0x0039):  # Get-Jobs, Cancel-My-Jobs
        body = ipp_request(op, site.ipp,
                           attr(0x42, "requesting-user-name", b"anna@example.com"), request_id=7)
        r = site.post_plain(body)
        assert r.status_code == 200 and ipp_status(r.content) == NOT_AUTHORIZED, r.content
    assert len(site.jobs_of("anna@example.com")) == 1

    # The map turns a login name into the address.
    inst.cli("settings", "set", "ipp.user_map", "{name}@example.com")
    site.ipptool_print(tmp_path, "anna", "successful-ok")
    assert len(site.jobs_of("anna@example.com")) == 2
    # A name that maps to no address is refused (no challenge over plain HTTP).
    site.ipptool_print(tmp_path, "anna smith", "client-error-forbidden")

    # Unknown users follow users.unknown_sender_policy (hold): created pending, refused.
    site.ipptool_print(tmp_path, "newbie", "client-error-not-authorized")
    users = {u["email"]: u for u in inst.cli_json("users")}
    assert users["newbie@example.com"]["state"] == "pending"
    assert site.jobs_of("newbie@example.com") == []
    # One log line per mapping, with a user tag and no address.
    log = site.srv.stderr()
    assert "ipp.auth_mapped" in log and "via=trusted-network" in log
    mapped = [line for line in log.splitlines() if "ipp.auth_mapped" in line]
    # Three prints and the refused Get-Jobs and Cancel-My-Jobs above.
    assert len(mapped) == 5 and not any("@" in line for line in mapped), mapped


def test_credentials_over_plain_http_are_refused_unchecked(site):
    inst = site.inst
    code = code_of(inst.cli("users", "add", "bob@example.com").stdout)
    wrong = "000000" if code != "000000" else "111111"
    inst.cli("settings", "set", "ipp.trusted_networks", "127.0.0.0/8")
    # Right code, wrong code, over and over: forbidden every time, and never counted, even
    # from a trusted network (the code crossed the network in clear).
    for secret in [code] + [wrong] * 6:
        r = site.post_plain(print_job_body(site.ipp, "bob@example.com"),
                            auth=("bob@example.com", secret))
        assert r.status_code == 200 and ipp_status(r.content) == FORBIDDEN, r.content
    # A Bearer and a personal printer address over plain HTTP likewise.
    r = site.post_plain(print_job_body(site.ipp, "bob@example.com"),
                        headers={"Authorization": "Bearer ppf_" + "0" * 64})
    assert r.status_code == 200 and ipp_status(r.content) == FORBIDDEN
    personal = inst.cli_json("users", "printer-uri", "add", "bob@example.com", "--label", "pc")
    path = "/ipp/print/u/" + personal["uri"].rsplit("/", 1)[1]
    r = site.post_plain(print_job_body(site.ipp), path=path)
    assert r.status_code == 200 and ipp_status(r.content) == FORBIDDEN
    assert site.jobs_of("bob@example.com") == []
    # Nothing was counted: the right code over IPPS works at once.
    r = site.post_tls(print_job_body(site.ipps), auth=("bob@example.com", code))
    assert r.status_code == 200 and ipp_status(r.content) == 0, r.content
    assert len(site.jobs_of("bob@example.com")) == 1


def test_forwarder_names_the_user(site):
    inst = site.inst
    inst.cli("users", "add", "carl@example.com")
    added = inst.cli_json("forwarders", "add", "cups-01")
    token = added["token"]
    bearer = {"Authorization": f"Bearer {token}"}

    # The forwarder prints for the user it names.
    r = site.post_tls(print_job_body(site.ipps, "Carl@Example.com"), headers=bearer)
    assert r.status_code == 200 and ipp_status(r.content) == 0, r.content
    assert len(site.jobs_of("carl@example.com")) == 1
    log = site.srv.stderr()
    assert 'via=forwarder forwarder="cups-01"' in log
    assert token not in log

    # Without a name there is nobody to print for: a challenge, no job.
    r = site.post_tls(print_job_body(site.ipps), headers=bearer)
    assert r.status_code == 401
    # An unknown user under the default hold policy waits for approval; nothing is stored.
    r = site.post_tls(print_job_body(site.ipps, "dora@example.com"), headers=bearer)
    assert r.status_code == 200 and ipp_status(r.content) == NOT_AUTHORIZED
    assert site.jobs_of("dora@example.com") == []

    # requesting-user-name without the forwarder token is never trusted over IPPS.
    r = site.post_tls(print_job_body(site.ipps, "carl@example.com"))
    assert r.status_code == 401
    assert len(site.jobs_of("carl@example.com")) == 1

    # Revoked: 401 like any wrong token.
    inst.cli("forwarders", "revoke", added["handle"])
    r = site.post_tls(print_job_body(site.ipps, "carl@example.com"), headers=bearer)
    assert r.status_code == 401


def test_wrong_bearer_is_401_and_throttled(site):
    inst = site.inst
    code = code_of(inst.cli("users", "add", "eve@example.com").stdout)
    for i in range(5):  # auth.max_failures default
        r = site.post_tls(print_job_body(site.ipps, "eve@example.com"),
                          headers={"Authorization": f"Bearer ppf_{i:064x}"})
        assert r.status_code == 401
        assert r.headers["WWW-Authenticate"] == 'Basic realm="Pullprint"'
    # The source is locked now: even the right code waits, with Retry-After.
    r = site.post_tls(print_job_body(site.ipps), auth=("eve@example.com", code))
    assert r.status_code == 401 and int(r.headers["Retry-After"]) > 0
    assert site.jobs_of("eve@example.com") == []
