"""Print by email, inbound: a real Dovecot (IMAPS, IMAP with STARTTLS, POP3S) holds the mail,
the real pullprintd polls it, and an SMTP sink captures the replies. Each test mails what
people send and checks what an admin and the sender see: the jobs made (names, sources),
the mailbox emptied, the replies, the log lines for what was refused.
"""

import io
import os
import time
import zipfile
from email.message import EmailMessage
from email.utils import make_msgid

import pytest

from conftest import Installation
from mail_servers import Dovecot, SmtpSink
from sample_docs import pdf

INBOX = "print@example.com"
INBOX_PW = "inbox-secret-1"
REPLIES = "replies@example.com"

JPEG = bytes([0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]) + b"JFIF\0" + bytes(range(256)) * 40
PNG_LOGO = bytes([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) + b"\0\0\0\rIHDR" + bytes(64)


def docx():
    """A minimal Word document (Office Open XML)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml",
                   '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                   'package/2006/content-types"><Override PartName="/word/document.xml" '
                   'ContentType="application/vnd.openxmlformats-officedocument.'
                   'wordprocessingml.document.main+xml"/></Types>')
        z.writestr("word/document.xml",
                   '<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.'
                   'org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>Hello</w:t></w:r>'
                   '</w:p></w:body></w:document>')
    return buf.getvalue()


def mail(sender, subject="print", attachments=(), body="Please print.", headers=None):
    """A mail as a phone sends it: text plus attachments (name, bytes, type)."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = INBOX
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="example.com")
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    for name, data, ctype in attachments:
        main, sub = ctype.split("/")
        msg.add_attachment(data, maintype=main, subtype=sub, filename=name)
    return msg.as_bytes()


class MailEnv:
    """Dovecot + SMTP sink + an installation whose server polls the inbox every second."""

    def __init__(self, root, kind="imaps", ca=None, start=True):
        self.dovecot = Dovecot({INBOX: INBOX_PW}).start()
        self.sink = SmtpSink(os.path.join(root, "sink")).start()
        self.inst = Installation(root)
        self.inst.cli("mail", "smtp", "set", "--host", "127.0.0.1", "--port",
                      str(self.sink.port), "--security", "plain", "--from", REPLIES)
        self.inst.cli("settings", "set", "users.unknown_sender_policy", "accept")
        # Conversion is off here: the confirmation need not wait for page counts.
        self.inst.cli("settings", "set", "mail.reply_wait_seconds", "0")
        self.inst.cli("mail", "accounts", "add", "inbox", "--url", self.dovecot.url(kind),
                      "--user", INBOX, "--ca-file", ca or self.dovecot.ca, "--interval", "1",
                      input=INBOX_PW + "\n")
        self.server = None

    def jobs(self):
        return [j for j in self.inst.cli_json("jobs", "list") if j["source"] == "mail"]

    def wait_jobs(self, count, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            jobs = self.jobs()
            if len(jobs) >= count:
                return jobs
            time.sleep(0.2)
        raise AssertionError(f"{count} jobs expected, got {self.jobs()}\n{self.log()}")

    def wait_empty(self, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.dovecot.waiting(INBOX) == 0:
                return
            time.sleep(0.1)
        raise AssertionError("the mailbox was not emptied\n" + self.log())

    def log(self):
        return self.server.stderr() if self.server else ""

    def stop(self):
        self.dovecot.stop()
        self.sink.stop()


@pytest.fixture
def env(tmp_path, server_factory):
    made = []

    def make(kind="imaps", ca=None, settings=None):
        e = MailEnv(str(tmp_path / f"env{len(made)}"), kind=kind, ca=ca)
        made.append(e)
        # Before the server starts: a poll already under way keeps the settings it read.
        for name, value in (settings or {}).items():
            e.inst.cli("settings", "set", name, value)
        e.server = server_factory(e.inst)
        return e

    yield make
    for e in made:
        e.stop()


def test_attachments_of_several_formats(env):
    e = env("imaps")
    e.dovecot.deliver(INBOX, mail(
        "Alice <Alice@Example.com>", "my files",
        [("report.pdf", pdf(), "application/pdf"), ("photo.jpg", JPEG, "image/jpeg"),
         ("letter.docx", docx(), "application/vnd.openxmlformats-officedocument."
          "wordprocessingml.document"),
         ("archive.zip", b"PK\x03\x04" + bytes(200), "application/zip")]))
    jobs = e.wait_jobs(3)
    e.wait_empty()
    assert sorted(j["title"] for j in jobs) == ["letter.docx", "photo.jpg", "report.pdf"]
    assert {j["user"] for j in jobs} == {"alice@example.com"}
    # One confirmation, naming what could not be printed.
    replies = e.sink.wait_for("alice@example.com")
    assert len(replies) == 1
    assert "archive.zip" in replies[0].get_body(("plain",)).get_content()
    status = e.inst.cli_json("mail", "status")
    assert status[0]["last_error"] == "" and status[0]["ingested"] == "1"


def test_forwarded_mail_and_encoded_names_over_starttls(env):
    e = env("imap")
    inner = EmailMessage()
    inner["From"] = "bob@example.org"
    inner["Subject"] = "the scan"
    inner.set_content("see attached")
    inner.add_attachment(JPEG, maintype="image", subtype="jpeg", filename="scan.jpg")
    outer = EmailMessage()
    outer["From"] = "carol@example.com"
    outer["To"] = INBOX
    outer["Subject"] = "Fwd: the scan"
    outer["Message-ID"] = make_msgid()
    outer.set_content("forwarding")
    outer.add_attachment(inner)
    # RFC 2231 (non-ASCII) name: Python writes filename*=utf-8''…
    outer.add_attachment(pdf(), maintype="application", subtype="pdf",
                         filename="Übersicht Q3 – Zähler.pdf")
    e.dovecot.deliver(INBOX, outer.as_bytes())
    jobs = e.wait_jobs(2)
    assert sorted(j["title"] for j in jobs) == ["scan.jpg", "Übersicht Q3 – Zähler.pdf"]
    e.wait_empty()


def test_pop3s(env):
    e = env("pop3s")
    for n in range(3):
        e.dovecot.deliver(INBOX, mail("dave@example.com", f"doc {n}",
                                      [(f"d{n}.pdf", pdf(), "application/pdf")]))
    jobs = e.wait_jobs(3)
    assert sorted(j["title"] for j in jobs) == ["d0.pdf", "d1.pdf", "d2.pdf"]
    e.wait_empty()
    e.sink.wait_for("dave@example.com", count=3)


def test_spoofed_sender_and_auto_reply_are_not_printed(env):
    e = env("imaps", settings={"mail.auth_serv_id": "mx.example.com"})
    e.dovecot.deliver(INBOX, mail(
        "ceo@example.com", "urgent", [("pay.pdf", pdf(), "application/pdf")],
        headers={"Authentication-Results":
                 "mx.example.com; spf=fail smtp.mailfrom=evil.example; dmarc=fail "
                 "header.from=example.com"}))
    e.dovecot.deliver(INBOX, mail(
        "erin@example.com", "Out of office", [("x.pdf", pdf(), "application/pdf")],
        headers={"Auto-Submitted": "auto-replied",
                 "Authentication-Results": "mx.example.com; dmarc=pass"}))
    # A genuine one after them, so we know both were looked at.
    e.dovecot.deliver(INBOX, mail(
        "frank@example.com", "real", [("ok.pdf", pdf(), "application/pdf")],
        headers={"Authentication-Results": "mx.example.com; dkim=pass header.d=example.com; "
                                           "dmarc=pass header.from=example.com"}))
    jobs = e.wait_jobs(1)
    e.wait_empty()
    time.sleep(1)
    assert [j["title"] for j in e.jobs()] == ["ok.pdf"] and jobs
    assert "mail.spoofed" in e.log()
    assert "auto-submitted" in e.log()
    # No answer to the spoof (it would go to the real CEO) nor to the auto-reply (a loop).
    assert e.sink.to("ceo@example.com") == []
    assert e.sink.to("erin@example.com") == []
    e.sink.wait_for("frank@example.com")


@pytest.mark.parametrize("policy", ["accept", "hold", "reject"])
def test_unknown_sender_policies(env, policy):
    e = env("imaps", settings={"users.unknown_sender_policy": policy})
    e.dovecot.deliver(INBOX, mail("gina@example.com", "hello",
                                  [("g.pdf", pdf(), "application/pdf")]))
    e.wait_empty()
    users = {u["email"]: u for u in e.inst.cli_json("users", "list")}
    if policy == "reject":
        time.sleep(1)
        assert e.jobs() == []
        assert "gina@example.com" not in users
        assert "mail.rejected" in e.log()
    else:
        e.wait_jobs(1)
        assert users["gina@example.com"]["state"] == ("enabled" if policy == "accept"
                                                      else "pending")
    # Every policy answers a person (not blocked) once.
    assert len(e.sink.wait_for("gina@example.com")) == 1


def test_unreadable_mail_gets_a_reply_and_is_removed(env):
    e = env("imaps")
    e.dovecot.deliver(INBOX, b"From: hank@example.com\r\nTo: print@example.com\r\n"
                             b"Subject: broken\r\nMessage-ID: <broken-1@example.com>\r\n"
                             b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed\r\n\r\n"
                             b"--x\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\r\n")
    e.wait_empty()
    replies = e.sink.wait_for("hank@example.com")
    assert len(replies) == 1
    assert e.jobs() == []
    assert "mail.unreadable" in e.log()


def test_wrong_ca_is_refused(env):
    e = env("imaps")
    e.inst.cli("mail", "accounts", "remove", "inbox")
    e.inst.cli("mail", "accounts", "add", "untrusted", "--url", e.dovecot.url("imaps"),
               "--user", INBOX, "--ca-file", e.dovecot.wrong_ca, "--interval", "1",
               input=INBOX_PW + "\n")
    e.dovecot.deliver(INBOX, mail("ivy@example.com", "x", [("i.pdf", pdf(), "application/pdf")]))
    test = e.inst.cli("mail", "accounts", "test", "untrusted", check=False)
    assert test.returncode == 1
    assert "certificate" in test.stderr
    deadline = time.time() + 20
    while time.time() < deadline:
        status = e.inst.cli_json("mail", "status")
        if status and "certificate" in status[0]["last_error"]:
            break
        time.sleep(0.2)
    else:
        raise AssertionError(f"no certificate error in the status: {status}")
    assert e.dovecot.waiting(INBOX) == 1  # nothing was read
    assert e.jobs() == []


def test_account_test_shows_the_server_answer(env):
    e = env("imaps")
    out = e.inst.cli("mail", "accounts", "test", "inbox").stdout
    assert "OK" in out and "Dovecot" in out or "IMAP4rev1" in out
    bad = e.inst.cli("mail", "accounts", "add", "same-as-smtp", "--url",
                     e.dovecot.url("imaps"), "--user", REPLIES, "--address", REPLIES,
                     input="x\n", check=False)
    assert bad.returncode != 0 and "From address of the replies" in bad.stderr
