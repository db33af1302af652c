"""The IPP service at /ipp/print driven by CUPS's own ipptool and by a small IPP client
(struct encoding, standard library + requests): printer attributes, Print-Job as an
authenticated user, wrong codes and throttling, and one user's jobs hidden from another.
Every test runs on SQLite and on PostgreSQL."""

import os
import re
import struct
import subprocess
import urllib.parse

import pytest

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
IPPTOOL_DIR = "/usr/share/cups/ipptool"


def code_of(out):
    match = re.search(r"confirmation code for \S+: (\d+)", out)
    assert match, out
    return match.group(1)


def attr(tag, name, value):
    name = name.encode()
    return struct.pack(">BH", tag, len(name)) + name + struct.pack(">H", len(value)) + value


def ipp_request(op, uri, operation=b"", job=b"", request_id=1, version=(2, 0)):
    body = struct.pack(">BBHI", version[0], version[1], op, request_id) + b"\x01"
    body += attr(0x47, "attributes-charset", b"utf-8")
    body += attr(0x48, "attributes-natural-language", b"en")
    body += attr(0x45, "printer-uri", uri.encode()) + operation
    if job:
        body += b"\x02" + job
    return body + b"\x03"


def ipp_status(content):
    assert len(content) >= 8, content
    return struct.unpack(">H", content[2:4])[0]


def ipp_ints(content, name):
    """Every integer/enum value of attribute name in a response (a tiny decoder)."""
    values, pos, current = [], 8, None
    while pos < len(content):
        tag = content[pos]
        pos += 1
        if tag < 0x10:
            if tag == 0x03:
                break
            continue
        nlen = struct.unpack(">H", content[pos:pos + 2])[0]
        aname = content[pos + 2:pos + 2 + nlen].decode(errors="replace")
        pos += 2 + nlen
        vlen = struct.unpack(">H", content[pos:pos + 2])[0]
        value = content[pos + 2:pos + 2 + vlen]
        pos += 2 + vlen
        if nlen:
            current = aname
        if current == name and tag in (0x21, 0x23) and vlen == 4:
            values.append(struct.unpack(">i", value)[0])
    return values


class Printer:
    def __init__(self, srv):
        self.srv = srv
        self.uri = f"ipps://127.0.0.1:{srv.inst.https_port}/ipp/print"

    def post(self, body, auth=None, headers=None):
        h = {"Content-Type": "application/ipp"}
        h.update(headers or {})
        return self.srv.request("POST", "/ipp/print", data=body, auth=auth, headers=h)

    def print_job(self, auth, doc=PDF, fmt=b"application/pdf", job=b""):
        op = attr(0x42, "job-name", b"report") + attr(0x49, "document-format", fmt)
        return self.post(ipp_request(0x0002, self.uri, op, job) + doc, auth=auth)


def ipptool(srv, test, user=None, code=None, document=None):
    host = f"127.0.0.1:{srv.inst.https_port}"
    if user:
        host = f"{urllib.parse.quote(user, safe='')}:{code}@{host}"
    args = ["ipptool", "-t", "-T", "10"]
    if document:
        args += ["-f", document]
    args += [f"ipps://{host}/ipp/print", os.path.join(IPPTOOL_DIR, test)]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=120)
    passes = re.findall(r"\[PASS\]", proc.stdout)
    fails = re.findall(r"^.*\[FAIL\].*$", proc.stdout, re.M)
    return proc, passes, fails


@pytest.fixture
def printer(installation, server_factory):
    inst = installation
    srv = server_factory(inst)
    return inst, srv, Printer(srv)


def test_ipptool_printer_attributes_pass(printer):
    inst, srv, p = printer
    proc, passes, fails = ipptool(srv, "get-printer-attributes.test")
    assert passes and not fails, proc.stdout + proc.stderr


def test_print_pdf_as_user_lands_in_their_queue(printer, tmp_path):
    inst, srv, p = printer
    code = code_of(inst.cli("users", "add", "alice@example.com").stdout)
    pdf = tmp_path / "doc.pdf"
    pdf.write_bytes(PDF)
    proc, passes, fails = ipptool(srv, "print-job.test", "alice@example.com", code, str(pdf))
    assert passes and not fails, proc.stdout + proc.stderr
    jobs = inst.cli_json("jobs", "--user", "alice@example.com")
    assert len(jobs) == 1 and jobs[0]["source"] == "ipp"
    # The document is in the spool, encrypted: one file, not the plain PDF.
    spooled = [os.path.join(d, f) for d, _, files in os.walk(os.path.join(inst.state_dir, "spool"))
               for f in files if os.path.basename(d) != "tmp"]
    assert len(spooled) == 1
    with open(spooled[0], "rb") as f:
        assert PDF not in f.read()

    # Our own client: job template honoured, then Get-Job-Attributes shows it pending.
    r = p.print_job(("alice@example.com", code),
                    job=attr(0x21, "copies", struct.pack(">i", 2)))
    assert r.status_code == 200 and ipp_status(r.content) == 0, r.content
    job_id = ipp_ints(r.content, "job-id")[0]
    get = p.post(ipp_request(0x0009, p.uri, attr(0x21, "job-id", struct.pack(">i", job_id))),
                 auth=("alice@example.com", code))
    assert ipp_status(get.content) == 0
    assert ipp_ints(get.content, "copies") == [2]
    assert ipp_ints(get.content, "job-state") == [3]


def test_wrong_code_is_401_and_throttled(printer):
    inst, srv, p = printer
    code = code_of(inst.cli("users", "add", "bob@example.com").stdout)
    wrong = "000000" if code != "000000" else "111111"
    # No credentials: printer attributes answer, printing asks for a login.
    gpa = p.post(ipp_request(0x000B, p.uri))
    assert gpa.status_code == 200 and ipp_status(gpa.content) == 0
    anon = p.print_job(None)
    assert anon.status_code == 401
    assert anon.headers["WWW-Authenticate"] == 'Basic realm="Pullprint"'
    for _ in range(5):  # auth.max_failures default
        r = p.print_job(("bob@example.com", wrong))
        assert r.status_code == 401
    # Locked: even the right code is refused, with Retry-After; no job was stored.
    locked = p.print_job(("bob@example.com", code))
    assert locked.status_code == 401 and int(locked.headers["Retry-After"]) > 0
    assert inst.cli_json("jobs", "--user", "bob@example.com") == []


def test_other_users_jobs_are_invisible(printer):
    inst, srv, p = printer
    a = ("ann@example.com", code_of(inst.cli("users", "add", "ann@example.com").stdout))
    b = ("ben@example.com", code_of(inst.cli("users", "add", "ben@example.com").stdout))
    r = p.print_job(a)
    job_id = ipp_ints(r.content, "job-id")[0]
    job = attr(0x21, "job-id", struct.pack(">i", job_id))
    assert ipp_status(p.post(ipp_request(0x0009, p.uri, job), auth=b).content) == 0x0406
    assert ipp_status(p.post(ipp_request(0x0008, p.uri, job), auth=b).content) == 0x0406
    jobs_b = p.post(ipp_request(0x000A, p.uri), auth=b)
    assert ipp_status(jobs_b.content) == 0 and ipp_ints(jobs_b.content, "job-id") == []
    jobs_a = p.post(ipp_request(0x000A, p.uri), auth=a)
    assert ipp_ints(jobs_a.content, "job-id") == [job_id]
    # The owner cancels; it moves to the completed list as canceled (7).
    assert ipp_status(p.post(ipp_request(0x0008, p.uri, job), auth=a).content) == 0
    done = p.post(ipp_request(0x000A, p.uri, attr(0x44, "which-jobs", b"completed") +
                              attr(0x44, "requested-attributes", b"job-state")), auth=a)
    assert ipp_ints(done.content, "job-state") == [7]


def test_bad_input_gets_ipp_errors_and_leaves_nothing(printer):
    inst, srv, p = printer
    a = ("cat@example.com", code_of(inst.cli("users", "add", "cat@example.com").stdout))
    assert ipp_status(p.post(ipp_request(0x000B, p.uri, version=(3, 0))).content) == 0x0503
    assert ipp_status(p.post(ipp_request(0x000B, p.uri)[:-6]).content) == 0x0400
    assert ipp_status(p.post(ipp_request(0x4001, p.uri), auth=a).content) == 0x0501
    dup = attr(0x44, "requested-attributes", b"all") * 2
    assert ipp_status(p.post(ipp_request(0x000B, p.uri, dup)).content) == 0x0400
    fmt = p.print_job(a, fmt=b"application/x-unknown")
    assert ipp_status(fmt.content) == 0x040A
    unknown = p.print_job(a, doc=b"\x00\x01\x02\x03" * 100, fmt=b"application/octet-stream")
    assert ipp_status(unknown.content) == 0x040A
    big = b"\x41\x00\x01x\x7f\xff" + b"a" * 32767
    huge = p.post(ipp_request(0x000B, p.uri)[:-1] + big * 9)
    assert huge.status_code == 413
    assert p.post(b"not ipp at all", headers={"Content-Type": "text/plain"}).status_code == 400
    assert inst.cli_json("jobs", "--user", "cat@example.com") == []
    assert srv.proc.poll() is None
