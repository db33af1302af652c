"""The IPP service at /ipp/print driven by CUPS's own ipptool and by a small IPP client
(struct encoding, standard library + requests): printer attributes, Print-Job as an
authenticated user, wrong codes and throttling, and one user's jobs hidden from another;
Create-Job + Send-Document + Close-Job, job-password (PIN), Cancel-My-Jobs,
Identify-Printer, personal printer URIs, and Send-Document's bad cases (no half job).
Every test runs on SQLite and on PostgreSQL."""

import io
import os
import re
import socket
import ssl
import struct
import subprocess
import time
import urllib.parse
import zipfile

import pytest

from conftest import code_of, metric_value
from ipp_wire import attr, ipp_ints, ipp_request, ipp_status, ipp_strings

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
IPPTOOL_DIR = "/usr/share/cups/ipptool"


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


def ipptool(srv, test, user=None, code=None, document=None, path="/ipp/print", defines=()):
    """Runs ipptool -t on a suite (a name in IPPTOOL_DIR or a path); returns the process,
    the [PASS] lines and the [FAIL] lines."""
    host = f"127.0.0.1:{srv.inst.https_port}"
    if user:
        host = f"{urllib.parse.quote(user, safe='')}:{code}@{host}"
    args = ["ipptool", "-t", "-T", "10"]
    if document:
        args += ["-f", document]
    for name, value in defines:
        args += ["-d", f"{name}={value}"]
    args += [f"ipps://{host}{path}", os.path.join(IPPTOOL_DIR, test)]
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
    # The document is stored encrypted (small: in the database with its job), intact, and
    # its plain bytes are nowhere at rest.
    stored = inst.stored_documents()
    assert stored["documents"] == 1 and stored["in_database"] == 1, stored
    assert stored["damaged"] == [] and stored["bytes"] == len(PDF)
    assert inst.plain_text_at_rest(PDF) == []

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


def test_signed_in_requests_wait_for_the_disk_only_for_jobs(sqlite_installation,
                                                            server_factory):
    """Each signed-in request clears its account's failed attempts: with none to clear, that
    is no commit, and the request does not wait for a flush of the database's log."""
    inst = sqlite_installation
    code = code_of(inst.cli("users", "add", "flo@example.com").stdout)
    srv = server_factory(inst)
    p = Printer(srv)
    auth = ("flo@example.com", code)

    def counts():
        text = srv.get("/metrics").text
        return (metric_value(text, "pullprint_db_commits_total"),
                metric_value(text, "pullprint_db_log_flushes_total"))

    assert ipp_status(p.post(ipp_request(0x000B, p.uri), auth=auth).content) == 0
    before = counts()
    for _ in range(5):
        assert ipp_status(p.post(ipp_request(0x000B, p.uri), auth=auth).content) == 0
        assert ipp_status(p.post(ipp_request(0x000A, p.uri), auth=auth).content) == 0
    assert counts() == before
    # A job is committed and flushed before it is acknowledged.
    assert ipp_status(p.print_job(auth).content) == 0
    commits, flushes = counts()
    assert commits > before[0] and flushes > before[1], (before, commits, flushes)


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


def test_admin_sets_where_the_printers_are(printer):
    inst, srv, p = printer
    def gpa():
        return p.post(ipp_request(0x000B, p.uri, attr(0x44, "requested-attributes", b"all"))).content
    assert ipp_strings(gpa(), "printer-location") == [""]
    assert ipp_strings(gpa(), "printer-geo-location") == []  # unknown
    inst.cli("settings", "set", "ipp.location", "Printers by the lifts, every floor")
    inst.cli("settings", "set", "ipp.geo_location", "geo:52.52,13.405")
    assert ipp_strings(gpa(), "printer-location") == ["Printers by the lifts, every floor"]
    assert ipp_strings(gpa(), "printer-geo-location") == ["geo:52.52,13.405"]
    bad = inst.cli("settings", "set", "ipp.geo_location", "Berlin", check=False)
    assert bad.returncode != 0 and "geo:LATITUDE,LONGITUDE" in bad.stderr


def zip_bytes(entries):
    """A ZIP archive of (name, text) entries, stored as an office suite writes its files."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, text in entries:
            z.writestr(zipfile.ZipInfo(name), text)
    return buf.getvalue()


def test_office_documents_sent_as_octet_stream_are_typed_by_content(printer):
    inst, srv, p = printer
    a = ("olga@example.com", code_of(inst.cli("users", "add", "olga@example.com").stdout))
    docx = zip_bytes([("[Content_Types].xml", "<Types/>"), ("_rels/.rels", "<Relationships/>"),
                      ("word/document.xml", "<w:document/>")])
    odt = zip_bytes([("mimetype", "application/vnd.oasis.opendocument.text"),
                     ("content.xml", "<office:document-content/>")])
    legacy = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504
    for doc in (docx, odt, legacy):
        r = p.print_job(a, doc=doc, fmt=b"application/octet-stream")
        assert ipp_status(r.content) == 0, r.content
    # A ZIP of something else is not guessed at: refused, and nothing is kept.
    photos = zip_bytes([("photos/cat.jpg", "not really a cat")])
    r = p.print_job(a, doc=photos, fmt=b"application/octet-stream")
    assert ipp_status(r.content) == 0x040A
    assert len(inst.cli_json("jobs", "--user", "olga@example.com")) == 3


# ---- Create-Job, Send-Document, Close-Job, job-password, Cancel-My-Jobs, Identify-Printer ----

OP_HEAD = """	GROUP operation-attributes-tag
	ATTR charset attributes-charset utf-8
	ATTR naturalLanguage attributes-natural-language en
	ATTR uri printer-uri $uri
	ATTR name requesting-user-name $user
"""


def suite(*tests):
    """An ipptool test file from (name, operation, body) triples."""
    return "".join(f'{{\n\tNAME "{name}"\n\tOPERATION {op}\n{OP_HEAD}{body}}}\n'
                   for name, op, body in tests)


TWO_STEP = suite(
    ("Create-Job", "Create-Job", """	ATTR name job-name "two-step"
	GROUP job-attributes-tag
	ATTR integer copies 2
	STATUS successful-ok
	EXPECT job-id OF-TYPE integer WITH-VALUE >0
	EXPECT job-state OF-TYPE enum WITH-VALUE 3
	EXPECT job-state-reasons WITH-VALUE "job-incoming"
"""),
    ("Get-Job-Attributes: pending, waiting for its document", "Get-Job-Attributes",
     """	ATTR integer job-id $job-id
	STATUS successful-ok
	EXPECT job-state WITH-VALUE 3
	EXPECT job-state-reasons WITH-VALUE "job-incoming"
	EXPECT copies WITH-VALUE 2
"""),
    ("Get-Jobs lists it", "Get-Jobs", """	ATTR keyword requested-attributes job-id,job-state-reasons
	STATUS successful-ok
	EXPECT job-state-reasons WITH-VALUE "job-incoming"
"""),
    ("Send-Document, not the last", "Send-Document", """	ATTR integer job-id $job-id
	ATTR mimeMediaType document-format application/octet-stream
	ATTR boolean last-document false
	FILE $filename
	STATUS successful-ok
	EXPECT job-state-reasons WITH-VALUE "job-incoming"
"""),
    ("Send-Document again: one document per job", "Send-Document", """	ATTR integer job-id $job-id
	ATTR mimeMediaType document-format application/pdf
	ATTR boolean last-document true
	FILE $filename
	STATUS server-error-multiple-document-jobs-not-supported
"""),
    ("Close-Job", "Close-Job", """	ATTR integer job-id $job-id
	STATUS successful-ok
	EXPECT job-state WITH-VALUE 3
	EXPECT job-state-reasons WITH-VALUE "job-queued"
"""),
    ("Close-Job twice", "Close-Job", """	ATTR integer job-id $job-id
	STATUS client-error-not-possible
"""),
    ("Send-Document after Close-Job", "Send-Document", """	ATTR integer job-id $job-id
	ATTR mimeMediaType document-format application/pdf
	ATTR boolean last-document true
	FILE $filename
	STATUS client-error-not-possible
"""),
    ("Create-Job with a PIN", "Create-Job", """	ATTR octetString job-password 4711
	ATTR keyword job-password-encryption none
	ATTR name job-name "pin"
	STATUS successful-ok
	EXPECT job-state-reasons WITH-VALUE "job-incoming"
"""),
    ("Send-Document, the last", "Send-Document", """	ATTR integer job-id $job-id
	ATTR mimeMediaType document-format application/pdf
	ATTR name document-name "report.pdf"
	ATTR boolean last-document true
	FILE $filename
	STATUS successful-ok
	EXPECT job-state WITH-VALUE 3
	EXPECT job-state-reasons WITH-VALUE "job-queued"
"""),
    ("Create-Job, closed without a document", "Create-Job", """	STATUS successful-ok
"""),
    ("Send-Document without data and not the last", "Send-Document", """	ATTR integer job-id $job-id
	ATTR boolean last-document false
	STATUS client-error-bad-request
"""),
    ("Send-Document without data, the last: closes it", "Send-Document", """	ATTR integer job-id $job-id
	ATTR boolean last-document true
	STATUS successful-ok
	EXPECT job-state WITH-VALUE 7
"""),
    ("Send-Document without last-document", "Send-Document", """	ATTR integer job-id $job-id
	STATUS client-error-bad-request
"""),
    ("Send-Document without job-id", "Send-Document", """	ATTR boolean last-document true
	STATUS client-error-bad-request
"""),
    ("Create-Job with a 9-digit PIN", "Create-Job", """	ATTR octetString job-password 123456789
	ATTR keyword job-password-encryption none
	STATUS client-error-attributes-or-values-not-supported
	EXPECT job-password IN-GROUP unsupported-attributes-tag
"""),
    ("Create-Job with an md5 PIN", "Create-Job", """	ATTR octetString job-password 81dc9bdb52d04dc20036dbd8313ed055
	ATTR keyword job-password-encryption md5
	STATUS client-error-attributes-or-values-not-supported
"""),
)

PIN_PRINT = suite(
    ("Print-Job with a PIN", "Print-Job", """	ATTR mimeMediaType document-format application/pdf
	ATTR octetString job-password 1234
	ATTR keyword job-password-encryption none
	FILE $filename
	STATUS successful-ok
	EXPECT job-id
"""),
    ("Print-Job with letters in the PIN", "Print-Job", """	ATTR mimeMediaType document-format application/pdf
	ATTR octetString job-password 12ab
	FILE $filename
	STATUS client-error-attributes-or-values-not-supported
"""),
)

CANCEL_MY_JOBS = suite(
    ("Cancel-My-Jobs", "Cancel-My-Jobs", """	STATUS successful-ok
"""),
    ("Get-Jobs: nothing left to do", "Get-Jobs", """	ATTR keyword which-jobs not-completed
	STATUS successful-ok
	EXPECT !job-id
"""),
    ("Get-Jobs: all canceled", "Get-Jobs", """	ATTR keyword which-jobs completed
	ATTR keyword requested-attributes job-id,job-state
	STATUS successful-ok
	EXPECT job-state WITH-ALL-VALUES 7
"""),
)

IDENTIFY = suite(
    ("Identify-Printer", "Identify-Printer", """	STATUS successful-ok
"""),
    ("Identify-Printer with an action", "Identify-Printer", """	ATTR keyword identify-actions flash
	STATUS successful-ok-ignored-or-substituted-attributes
	EXPECT identify-actions IN-GROUP unsupported-attributes-tag
"""),
)


def run_suite(srv, tmp_path, name, text, **kw):
    path = tmp_path / f"{name}.test"
    path.write_text(text)
    proc, passes, fails = ipptool(srv, str(path), **kw)
    expected = text.count("\tNAME ")
    assert len(passes) == expected and not fails, proc.stdout + proc.stderr
    return proc


def pdf_file(tmp_path):
    pdf = tmp_path / "doc.pdf"
    pdf.write_bytes(PDF)
    return str(pdf)


def jobs_of(inst, email):
    return {int(j["id"]): j for j in inst.cli_json("jobs", "--user", email)}


def spool_temp_files(inst):
    root = os.path.join(inst.state_dir, "spool", "tmp")
    return os.listdir(root) if os.path.isdir(root) else []


def test_create_job_send_document_close_job(printer, tmp_path):
    inst, srv, p = printer
    code = code_of(inst.cli("users", "add", "dora@example.com").stdout)
    run_suite(srv, tmp_path, "two-step", TWO_STEP, user="dora@example.com", code=code,
              document=pdf_file(tmp_path))
    jobs = sorted(jobs_of(inst, "dora@example.com").values(), key=lambda j: int(j["id"]))
    # two-step and pin were received; the third was closed without a document; the refused
    # PINs made no job.
    assert [(j["title"], j["state"]) for j in jobs] == \
        [("two-step", "received"), ("pin", "received"), ("", "canceled")]
    assert [j["pin"] for j in jobs] == ["no", "yes", "no"]
    # One stored document per received job, none for the rest.
    assert inst.stored_documents()["documents"] == 2 and spool_temp_files(inst) == []
    assert "ipp.job_created" in srv.stderr() and "4711" not in srv.stderr()


def test_job_password_is_kept_as_a_pin(printer, tmp_path):
    inst, srv, p = printer
    code = code_of(inst.cli("users", "add", "erin@example.com").stdout)
    run_suite(srv, tmp_path, "pin", PIN_PRINT, user="erin@example.com", code=code,
              document=pdf_file(tmp_path))
    jobs = list(jobs_of(inst, "erin@example.com").values())
    assert [j["pin"] for j in jobs] == ["yes"]
    # The printer says what it takes.
    gpa = p.post(ipp_request(0x000B, p.uri, attr(0x44, "requested-attributes", b"all")))
    assert ipp_ints(gpa.content, "job-password-supported") == [8]
    assert ipp_strings(gpa.content, "job-password-encryption-supported") == ["none"]
    assert ipp_strings(gpa.content, "job-password-repertoire-configured") == \
        ["iana_us-ascii_digits"]
    assert ipp_ints(gpa.content, "multiple-operation-time-out") == [300]
    assert "1234" not in srv.stderr()


def test_cancel_my_jobs_cancels_only_the_callers_jobs(printer, tmp_path):
    inst, srv, p = printer
    a = ("fay@example.com", code_of(inst.cli("users", "add", "fay@example.com").stdout))
    b = ("gus@example.com", code_of(inst.cli("users", "add", "gus@example.com").stdout))
    printed = ipp_ints(p.print_job(a).content, "job-id")[0]
    incoming = ipp_ints(p.post(ipp_request(0x0005, p.uri), auth=a).content, "job-id")[0]
    other = ipp_ints(p.print_job(b).content, "job-id")[0]
    # Naming another user's job cancels nothing.
    ids = attr(0x21, "job-ids", struct.pack(">i", other))
    assert ipp_status(p.post(ipp_request(0x0039, p.uri, ids), auth=a).content) == 0x0406
    run_suite(srv, tmp_path, "cancel-my-jobs", CANCEL_MY_JOBS, user=a[0], code=a[1])
    states = {j: s["state"] for j, s in {**jobs_of(inst, a[0]), **jobs_of(inst, b[0])}.items()}
    assert states == {printed: "canceled", incoming: "canceled", other: "received"}
    # Finished jobs cannot be canceled again: named, they come back as not possible.
    ids = attr(0x21, "job-ids", struct.pack(">i", printed))
    again = p.post(ipp_request(0x0039, p.uri, ids), auth=a)
    assert ipp_status(again.content) == 0x0404 and ipp_ints(again.content, "job-ids") == [printed]


def test_identify_printer_is_logged(printer, tmp_path):
    inst, srv, p = printer
    code = code_of(inst.cli("users", "add", "hal@example.com").stdout)
    run_suite(srv, tmp_path, "identify", IDENTIFY, user="hal@example.com", code=code)
    assert srv.stderr().count("ipp.identify_requested") == 2
    # Nothing to flash or sound: no identify action is advertised.
    gpa = p.post(ipp_request(0x000B, p.uri, attr(0x44, "requested-attributes", b"all")))
    assert ipp_strings(gpa.content, "identify-actions-supported") == []
    assert 0x3C in ipp_ints(gpa.content, "operations-supported")
    # Without credentials it asks for them, like every operation but printer attributes.
    assert p.post(ipp_request(0x003C, p.uri)).status_code == 401


def test_send_document_bad_cases_leave_no_half_job(printer):
    inst, srv, p = printer
    a = ("ida@example.com", code_of(inst.cli("users", "add", "ida@example.com").stdout))
    b = ("jon@example.com", code_of(inst.cli("users", "add", "jon@example.com").stdout))

    def send(job_id, auth, doc=PDF, last=True):
        op = attr(0x21, "job-id", struct.pack(">i", job_id)) + \
            attr(0x22, "last-document", b"\x01" if last else b"\x00") + \
            attr(0x49, "document-format", b"application/pdf")
        return p.post(ipp_request(0x0006, p.uri, op) + doc, auth=auth)

    printed = ipp_ints(p.print_job(a).content, "job-id")[0]
    incoming = ipp_ints(p.post(ipp_request(0x0005, p.uri), auth=a).content, "job-id")[0]
    # A job that is not incoming; another user's job; a job that does not exist.
    assert ipp_status(send(printed, a).content) == 0x0404
    assert ipp_status(send(incoming, b).content) == 0x0406
    assert ipp_status(send(999999, a).content) == 0x0406
    # Document data with Create-Job is refused, and no job is made.
    before = len(jobs_of(inst, a[0]))
    refused = p.post(ipp_request(0x0005, p.uri) + PDF, auth=a)
    assert ipp_status(refused.content) == 0x0400
    assert "Send-Document" in " ".join(ipp_strings(refused.content, "status-message"))
    assert len(jobs_of(inst, a[0])) == before
    # Over plain sockets: the client sends half of the document and vanishes.
    op = attr(0x21, "job-id", struct.pack(">i", incoming)) + attr(0x22, "last-document", b"\x01")
    head = ipp_request(0x0006, p.uri, op)
    doc = b"%PDF-1.4\n" + b"x" * 200000
    auth = "Basic " + __import__("base64").b64encode(f"{a[0]}:{a[1]}".encode()).decode()
    ctx = ssl.create_default_context(cafile=srv.ca)
    ctx.check_hostname = False
    with socket.create_connection(("127.0.0.1", inst.https_port)) as raw:
        with ctx.wrap_socket(raw) as tls:
            tls.sendall((f"POST /ipp/print HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         f"Content-Type: application/ipp\r\nAuthorization: {auth}\r\n"
                         f"Content-Length: {len(head) + len(doc)}\r\n\r\n").encode())
            tls.sendall(head + doc[:100000])
            time.sleep(0.5)
    # The job is still waiting for its document; the partial file is gone.
    deadline = time.time() + 10
    while time.time() < deadline and spool_temp_files(inst):
        time.sleep(0.1)
    assert spool_temp_files(inst) == []
    assert inst.stored_documents()["documents"] == 1  # the printed job's document only
    get = p.post(ipp_request(0x0009, p.uri, attr(0x21, "job-id", struct.pack(">i", incoming))),
                 auth=a)
    assert ipp_ints(get.content, "job-state") == [3]
    assert ipp_strings(get.content, "job-state-reasons") == ["job-incoming"]
    # It can still be sent whole, once.
    assert ipp_status(send(incoming, a).content) == 0
    assert jobs_of(inst, a[0])[incoming]["state"] == "received"
    stored = inst.stored_documents()
    assert stored["documents"] == 2 and stored["damaged"] == []
    assert srv.proc.poll() is None


def test_personal_printer_uri_prints_without_credentials(printer, tmp_path):
    inst, srv, p = printer
    inst.cli("users", "add", "kim@example.com")
    added = inst.cli_json("users", "printer-uri", "add", "kim@example.com", "--label", "phone")
    token = re.search(r"/ipp/print/u/(ppp_[0-9a-f]+)$", added["uri"]).group(1)
    path = "/ipp/print/u/" + token
    proc, passes, fails = ipptool(srv, "print-job.test", document=pdf_file(tmp_path), path=path)
    assert passes and not fails, proc.stdout + proc.stderr
    assert [j["source"] for j in jobs_of(inst, "kim@example.com").values()] == ["ipp"]
    # Printer attributes name the personal URI first, so a client keeps using it.
    personal = f"ipps://127.0.0.1:{inst.https_port}{path}"
    gpa = srv.request("POST", path, data=ipp_request(0x000B, personal),
                      headers={"Content-Type": "application/ipp"})
    assert ipp_strings(gpa.content, "printer-uri-supported")[0] == personal
    assert ipp_strings(gpa.content, "uri-authentication-supported")[0] == "none"
    assert token not in srv.stderr()
    # Revoked: HTTP 404 with a JSON error saying what to do.
    inst.cli("users", "printer-uri", "revoke", "kim@example.com", added["handle"])
    gone = srv.request("POST", path, data=ipp_request(0x000B, personal),
                       headers={"Content-Type": "application/ipp"})
    assert gone.status_code == 404
    assert "get a new one" in gone.json()["error"]["message"]
