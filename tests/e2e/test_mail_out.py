"""Replies and commands by mail, end to end: mail is delivered into a real Dovecot mailbox,
pullprintd polls it, and what it answers is captured by a real SMTP server (aiosmtpd).
The tests read the replies as a user would: the confirmation lists each document with its
pages (or why it failed), carries a code per mail.code_in_reply and the mailto: links; the
release link, mailed back with a printer's alias, prints on a real ippeveprinter; print-now
by subject; a new code by mail; a forged release key, or another user's, releases nothing.
On SQLite and PostgreSQL.
"""

import email.policy
import os
import re
import time
import urllib.parse
from email.message import EmailMessage

import pytest

from conftest import Installation, make_pg_database
from mail_servers import Dovecot, SmtpSink
from printers_fixture import printer_farm  # noqa: F401 (a fixture)
from sample_docs import pdf

INBOX = "print@example.com"
INBOX_PASSWORD = "inbox-secret"
PDF_CAPS = '{"formats": ["application/pdf", "image/pwg-raster"], "is_color": true}'


@pytest.fixture
def mail(tmp_path, backend, request, server_factory, printer_farm):
    """A converting installation with one mailbox (IMAPS, polled every second), replies to an
    SMTP sink, one IPP Everywhere printer "hall", print-now on; Ann has an account (and a
    code)."""
    database = None
    if backend == "postgresql":
        database = make_pg_database(request.getfixturevalue("pg_url"))
    inst = Installation(str(tmp_path / "inst"), database=database, convert=True, workers=2)
    dovecot = Dovecot({INBOX: INBOX_PASSWORD}).start()
    request.addfinalizer(dovecot.stop)
    sink = SmtpSink(str(tmp_path / "sink")).start()
    request.addfinalizer(sink.stop)
    printer = printer_farm.eve("hall", "application/pdf,image/pwg-raster")
    inst.cli("printers", "add", "Hall", "--uri", printer.uri, "--caps", PDF_CAPS,
             "--location", "Ground floor")
    inst.cli("users", "add", "ann@example.com")
    inst.cli("mail", "accounts", "add", "inbox", "--url", dovecot.url("imaps"), "--user", INBOX,
             "--address", INBOX, "--ca-file", dovecot.ca, "--interval", "1",
             input=INBOX_PASSWORD + "\n")
    inst.cli("mail", "smtp", "set", "--host", "127.0.0.1", "--port", str(sink.port),
             "--security", "plain", "--from", "printing@example.com")
    # Before the start: the poller reads its settings once per pass, and a pass under way
    # when a test changed one would still see the old value.
    inst.cli("settings", "set", "mail.print_now_enabled", "on")
    srv = server_factory(inst)

    class Env:
        pass

    env = Env()
    env.inst, env.dovecot, env.sink, env.printer, env.srv = inst, dovecot, sink, printer, srv
    return env


def send(env, sender, subject, attachments=()):
    """Delivers a mail from sender to the mailbox; attachments: [(name, bytes, mime type)]."""
    msg = EmailMessage()
    msg["From"] = f"Someone <{sender}>"
    msg["To"] = INBOX
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{time.time_ns()}@phone.example.com>"
    msg["Date"] = "Thu, 26 Nov 2026 05:00:00 +0000"
    msg.set_content("Please print.\n")
    for name, data, ctype in attachments:
        maintype, subtype = ctype.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    env.dovecot.deliver(INBOX, msg.as_bytes(policy=email.policy.SMTP))


def replies(env, address, count, timeout=60):
    """The replies to address once there are count of them: (subject, text, html)."""
    got = env.sink.wait_for(address, count=count, timeout=timeout)
    out = []
    for m in got:
        text = m.get_body(preferencelist=("plain",)).get_content()
        html_part = m.get_body(preferencelist=("html",))
        out.append((str(m["Subject"]), text, html_part.get_content() if html_part else None,
                    m))
    return out


def wait_job_state(env, job_id, states, timeout=90):
    deadline = time.time() + timeout
    job = None
    while time.time() < deadline:
        job = env.inst.cli_json("jobs", "show", str(job_id))[0]
        if job["state"] in states:
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} is {job and job['state']}, expected {states}: "
                         + env.srv.stderr()[-3000:])


def release_subject(text):
    """The subject of the generic release link in a reply, with PRINTER in it."""
    match = re.search(r"mailto:print@example\.com\?subject=([A-Za-z0-9%\-]+)%20PRINTER", text)
    assert match, text
    return urllib.parse.unquote(match.group(1))


def test_confirmation_lists_pages_code_and_links(mail):
    env = mail
    env.inst.cli("settings", "set", "users.unknown_sender_policy", "accept")
    send(env, "bob@example.com", "Scans", [
        ("report.pdf", pdf(pages=3, text="report"), "application/pdf"),
        ("notes.pdf", pdf(pages=1, text="notes"), "application/pdf"),
        ("archive.7z", b"7z\xbc\xaf\x27\x1c" + b"\0" * 64, "application/x-7z-compressed"),
    ])
    [(subject, text, html, msg)] = replies(env, "bob@example.com", 1)
    assert "Scans" in subject
    assert msg["Auto-Submitted"] == "auto-replied"
    assert msg.get_content_type() == "multipart/alternative"
    assert "report.pdf - 3 page(s)" in text, text
    assert "notes.pdf - 1 page(s)" in text, text
    assert "archive.7z" in text, text  # named, not silently dropped
    # A new user gets a code (mail.code_in_reply = new-users) ...
    code = re.search(r"Your confirmation code: (\d+)", text)
    assert code, text
    # ... and the links: release (generic and per printer), new code, delete.
    key = release_subject(text)
    assert re.fullmatch(r"[A-Z2-7]{4}(-[A-Z2-7]{4}){3}", key), key
    assert f"hall (Ground floor): mailto:print@example.com?subject={key}%20hall" in text
    assert "mailto:print@example.com?subject=new%20code" in text
    assert f"mailto:print@example.com?subject=delete%20{key}" in text
    assert html is not None and 'href="mailto:print@example.com?subject=new%20code"' in html

    # The second submission: the user has a code now, none is sent again.
    send(env, "bob@example.com", "More", [("more.pdf", pdf(pages=2), "application/pdf")])
    second = replies(env, "bob@example.com", 2)[1][1]
    assert "more.pdf - 2 page(s)" in second
    assert "Your confirmation code" not in second
    # mail.code_in_reply = always, then never.
    env.inst.cli("settings", "set", "mail.code_in_reply", "always")
    send(env, "bob@example.com", "Again", [("again.pdf", pdf(), "application/pdf")])
    assert "Your confirmation code" in replies(env, "bob@example.com", 3)[2][1]
    env.inst.cli("settings", "set", "mail.code_in_reply", "never")
    send(env, "bob@example.com", "Never", [("never.pdf", pdf(), "application/pdf")])
    assert "Your confirmation code" not in replies(env, "bob@example.com", 4)[3][1]


def test_release_by_mail_prints(mail):
    env = mail
    send(env, "ann@example.com", "Budget", [("budget.pdf", pdf(pages=2), "application/pdf")])
    [(_, text, _, _)] = replies(env, "ann@example.com", 1)
    assert "budget.pdf - 2 page(s)" in text
    key = release_subject(text)
    [job] = [j for j in env.inst.cli_json("jobs", "list") if j["title"] == "budget.pdf"]
    assert job["state"] == "held"

    # The release link, with the printer's alias where it says PRINTER.
    send(env, "ann@example.com", f"Re: {key} hall")
    released = replies(env, "ann@example.com", 2)[1]
    assert released[0] == "Released to hall", released[1]
    assert "budget.pdf" in released[1]
    # Delivery takes it to the printer.
    done = wait_job_state(env, job["id"], {"completed", "held", "failed"})
    assert done["state"] == "completed", done
    env.printer.wait_jobs(1)


def test_forged_or_foreign_release_key_releases_nothing(mail):
    env = mail
    env.inst.cli("users", "add", "bob@example.com")
    send(env, "ann@example.com", "Mine", [("mine.pdf", pdf(), "application/pdf")])
    ann_key = release_subject(replies(env, "ann@example.com", 1)[0][1])
    [job] = [j for j in env.inst.cli_json("jobs", "list") if j["title"] == "mine.pdf"]

    # Bob mails Ann's key: it is not his.
    send(env, "bob@example.com", f"{ann_key} hall")
    [(subject, text, _, _)] = replies(env, "bob@example.com", 1)
    assert subject.startswith("Not done"), subject
    assert "not the one of this address" in text
    # A made-up key from Ann's own address.
    send(env, "ann@example.com", "ABCD-EFGH-JKLM-NPQR hall")
    refused = replies(env, "ann@example.com", 2)[1]
    assert "not the one of this address" in refused[1]
    # An address that is no registered printer is never contacted.
    send(env, "ann@example.com", f"{ann_key} 10.0.0.1")
    unknown = replies(env, "ann@example.com", 3)[2]
    assert "no printer" in unknown[1] and "hall (Ground floor)" in unknown[1]
    assert env.inst.cli_json("jobs", "show", str(job["id"]))[0]["state"] == "held"


def test_print_now_by_subject(mail):
    env = mail
    send(env, "ann@example.com", "hall", [("now.pdf", pdf(pages=1), "application/pdf")])
    [(subject, text, _, _)] = replies(env, "ann@example.com", 1)
    assert subject.startswith("Printing:"), subject
    assert re.search(r"now\.pdf - 1 page\(s\) - print(ing|ed) on hall", text), text
    [job] = [j for j in env.inst.cli_json("jobs", "list") if j["title"] == "now.pdf"]
    assert wait_job_state(env, job["id"], {"completed", "held", "failed"})["state"] == \
        "completed"
    env.printer.wait_jobs(1)


def test_new_code_and_delete_by_mail(mail):
    env = mail
    first = env.inst.cli("users", "code", "ann@example.com").stdout
    send(env, "ann@example.com", "new code")
    [(subject, text, _, _)] = replies(env, "ann@example.com", 1)
    assert subject == "Your new confirmation code"
    code = re.search(r"Your new confirmation code: (\d+)", text).group(1)
    assert code not in first
    # An address without an account gets no code and no account.
    send(env, "eve@example.com", "new code")
    [(_, eve, _, _)] = replies(env, "eve@example.com", 1)
    assert "has no account yet" in eve and not re.search(r"code: \d", eve)

    # The delete link removes the held jobs.
    send(env, "ann@example.com", "Draft", [("draft.pdf", pdf(), "application/pdf")])
    key = release_subject(replies(env, "ann@example.com", 2)[1][1])
    send(env, "ann@example.com", f"delete {key}")
    [(subject, text, _, _)] = replies(env, "ann@example.com", 3)[2:]
    assert subject == "Deleted 1 document(s)", text
    assert "draft.pdf" in text
    assert not [j for j in env.inst.cli_json("jobs", "list") if j["title"] == "draft.pdf"]


TLS_SINK_SCRIPT = r'''
import base64, os, ssl, sys, time, uuid, signal, threading
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

directory, port, mode, cert, key, user, secret = sys.argv[1:8]

class Store:
    async def handle_DATA(self, server, session, envelope):
        name = f"{time.time():.6f}-{uuid.uuid4().hex}.eml"
        head = (f"X-Sink-From: {envelope.mail_from}\r\nX-Sink-To: "
                f"{','.join(envelope.rcpt_tos)}\r\nX-Sink-Auth: {session.authenticated}\r\n")
        tmp = os.path.join(directory, "." + name)
        with open(tmp, "wb") as f:
            f.write(head.encode() + envelope.original_content)
        os.rename(tmp, os.path.join(directory, name))
        return "250 stored"

    async def auth_XOAUTH2(self, server, args):
        # "user=<user>\x01auth=Bearer <token>\x01\x01", base64 (RFC 7628 style)
        try:
            if len(args) > 1:  # initial response with the command
                raw = base64.b64decode(args[1])
            else:  # after a "334 " challenge; challenge_auth() undoes the base64
                raw = await server.challenge_auth("")
            fields = raw.decode().split("\x01")
        except Exception:
            return AuthResult(success=False, handled=False)
        ok = f"user={user}" in fields and f"auth=Bearer {secret}" in fields
        return AuthResult(success=ok, handled=False, auth_data=user)

def check(server, session, envelope, mechanism, auth_data):
    ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user
          and auth_data.password.decode() == secret)
    # handled=False: aiosmtpd then answers 535 itself on a failure
    return AuthResult(success=ok, handled=False)

ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
ctx.load_cert_chain(cert, key)
kw = dict(hostname="127.0.0.1", port=int(port), authenticator=check, auth_required=True)
if mode == "starttls":
    controller = Controller(Store(), tls_context=ctx, require_starttls=True, **kw)
elif mode == "tls":
    # Implicit TLS: aiosmtpd does not count it as TLS for AUTH, so it must be told.
    controller = Controller(Store(), ssl_context=ctx, auth_require_tls=False, **kw)
else:  # "no-starttls": a server that offers no TLS at all
    controller = Controller(Store(), auth_require_tls=False, **kw)
controller.start()
print("ready", flush=True)
done = threading.Event()
signal.signal(signal.SIGTERM, lambda *a: done.set())
done.wait()
controller.stop()
'''


class TlsSink(SmtpSink):
    """The SMTP sink with TLS (STARTTLS required, or implicit) and AUTH: PLAIN/LOGIN with
    user and secret, or XOAUTH2 with secret as the bearer token."""

    def __init__(self, directory, mode, cert, key, user, secret):
        super().__init__(directory)
        self.args = [mode, cert, key, user, secret]

    def start(self):
        import subprocess
        from mail_servers import SYSTEM_PYTHON
        self.proc = subprocess.Popen([SYSTEM_PYTHON, "-c", TLS_SINK_SCRIPT, self.directory,
                                      str(self.port), *self.args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if line.strip() != "ready":
            raise AssertionError("TLS SMTP sink did not start: " + self.proc.stderr.read())
        return self


@pytest.mark.parametrize("security,login", [("starttls", "password"), ("tls", "xoauth2")])
def test_replies_over_tls_with_auth(mail, tmp_path, request, security, login):
    """Replies go over STARTTLS or implicit TLS, the certificate checked against the CA given,
    logged in with a password or an OAuth2 bearer token."""
    env = mail
    secret = "tok-" + os.urandom(8).hex() if login == "xoauth2" else "pw-" + os.urandom(4).hex()
    sink = TlsSink(str(tmp_path / "tls-sink"), security, env.dovecot.cert, env.dovecot.key,
                   "print-bot", secret).start()
    request.addfinalizer(sink.stop)
    args = ["mail", "smtp", "set", "--host", "127.0.0.1", "--port", str(sink.port),
            "--security", security, "--user", "print-bot", "--ca-file", env.dovecot.ca,
            "--from", "printing@example.com"]
    if login == "xoauth2":
        args.append("--oauth2")
    env.inst.cli(*args, input=secret + "\n")
    send(env, "ann@example.com", "new code")
    try:
        [msg] = sink.wait_for("ann@example.com", 1)
    except AssertionError as e:
        raise AssertionError(str(e) + "\n" + env.srv.stderr()[-3000:]
                             + sink.proc.stderr.read() if sink.proc.poll() is not None
                             else str(e) + "\n" + env.srv.stderr()[-3000:])
    assert msg["X-Sink-Auth"] == "True"
    assert msg["Subject"] == "Your new confirmation code"
    assert secret not in env.srv.stderr()


def test_starttls_missing_or_login_refused_is_retried_not_sent(mail, tmp_path, request):
    """A server that offers no STARTTLS is not spoken to in clear text, and a refused login
    is not a permanent failure: the reply waits in the outbox, the log says what to fix."""
    env = mail
    plain = TlsSink(str(tmp_path / "plain-sink"), "no-starttls", env.dovecot.cert,
                    env.dovecot.key, "print-bot", "right").start()
    request.addfinalizer(plain.stop)
    env.inst.cli("mail", "smtp", "set", "--host", "127.0.0.1", "--port", str(plain.port),
                 "--security", "starttls", "--user", "print-bot", "--from",
                 "printing@example.com", input="right\n")
    send(env, "ann@example.com", "new code")
    deadline = time.time() + 30
    while "mail.reply_retry" not in env.srv.stderr() and time.time() < deadline:
        time.sleep(0.2)
    log = env.srv.stderr()
    assert "mail.reply_retry" in log and "STARTTLS" in log, log[-3000:]
    assert plain.messages() == []

    tls = TlsSink(str(tmp_path / "tls-sink"), "tls", env.dovecot.cert, env.dovecot.key,
                  "print-bot", "right").start()
    wrong = "wrong-" + os.urandom(6).hex()
    request.addfinalizer(tls.stop)
    env.inst.cli("mail", "smtp", "set", "--host", "127.0.0.1", "--port", str(tls.port),
                 "--security", "tls", "--user", "print-bot", "--ca-file", env.dovecot.ca,
                 "--from", "printing@example.com", input=wrong + "\n")
    send(env, "bob@example.com", "new code")  # no account: a reply all the same
    deadline = time.time() + 30
    while "check the user and password" not in env.srv.stderr() and time.time() < deadline:
        time.sleep(0.2)
    assert "check the user and password" in env.srv.stderr(), env.srv.stderr()[-3000:]
    assert tls.messages() == []
    assert wrong not in env.srv.stderr()  # a password never reaches the log
