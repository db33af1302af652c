"""Private mail servers for the print-by-email tests.

Dovecot: Debian's /usr/sbin/dovecot -F with a private dovecot.conf on 127.0.0.1 and ephemeral
ports for IMAPS, IMAP (STARTTLS) and POP3S, a test CA and a server certificate made here with
openssl, passwd-file users and one Maildir per user. Mail is delivered the way a local MTA
does it: a file written to Maildir/tmp and renamed into Maildir/new. Stopped by PID.

SMTP sink: an aiosmtpd Controller (Debian python3-aiosmtpd) run by /usr/bin/python3 as a
child process on 127.0.0.1; each message it accepts is stored as one .eml file (envelope
sender and recipients in X-Sink-* headers on top) in a directory the test reads.

Both run as root in CI: Dovecot's mail processes then run as `nobody`, so the Maildirs live
in a 0711 directory under /tmp (pytest's own directories are 0700) that is removed at stop().
"""

import email
import email.policy
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid

DOVECOT = "/usr/sbin/dovecot"
SYSTEM_PYTHON = "/usr/bin/python3"


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, what, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"{what} exited {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"{what} did not listen on {port}")


def make_ca(directory, name="Pullprint Test Mail CA"):
    """A CA and a server certificate for 127.0.0.1 / localhost; returns (ca, cert, key)."""
    ca_key = os.path.join(directory, "ca.key")
    ca = os.path.join(directory, "ca.pem")
    key = os.path.join(directory, "server.key")
    csr = os.path.join(directory, "server.csr")
    cert = os.path.join(directory, "server.pem")
    ext = os.path.join(directory, "ext.cnf")
    with open(ext, "w", encoding="ascii") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")
    run = lambda *a: subprocess.run(a, check=True, capture_output=True)  # noqa: E731
    run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
        "-nodes", "-keyout", ca_key, "-out", ca, "-days", "2", "-subj", f"/CN={name}")
    run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", key, "-out", csr, "-subj", "/CN=localhost")
    run("openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
        "-out", cert, "-days", "2", "-extfile", ext)
    return ca, cert, key


class Dovecot:
    """A private Dovecot. users: {login: password}; addresses are login (use addresses)."""

    def __init__(self, users):
        self.users = dict(users)
        self.root = tempfile.mkdtemp(prefix="pp-dovecot-", dir="/tmp")
        os.chmod(self.root, 0o711)
        self.imaps_port = free_port()
        self.imap_port = free_port()
        self.pop3s_port = free_port()
        self.proc = None
        self.mail_uid = 65534 if os.geteuid() == 0 else os.getuid()
        self.mail_gid = 65534 if os.geteuid() == 0 else os.getgid()
        self.ca, self.cert, self.key = make_ca(self.root)
        # A second CA that signed nothing here: an account trusting it must be refused.
        other = os.path.join(self.root, "other")
        os.makedirs(other)
        self.wrong_ca, _, _ = make_ca(other, "Some Other CA")

    def maildir(self, user):
        return os.path.join(self.root, "mail", user)

    def start(self):
        passwd = os.path.join(self.root, "passwd")
        with open(passwd, "w", encoding="utf-8") as f:
            for login, password in self.users.items():
                f.write(f"{login}:{{PLAIN}}{password}:{self.mail_uid}:{self.mail_gid}::"
                        f"{self.maildir(login)}\n")
        os.chmod(passwd, 0o600)
        if os.geteuid() == 0:
            import pwd
            internal = pwd.getpwnam("dovecot")  # the auth process reads it as this user
            os.chown(passwd, internal.pw_uid, internal.pw_gid)
        for login in self.users:
            for sub in ("tmp", "new", "cur"):
                os.makedirs(os.path.join(self.maildir(login), "Maildir", sub), exist_ok=True)
        for dirpath, dirnames, _ in os.walk(os.path.join(self.root, "mail")):
            os.chown(dirpath, self.mail_uid, self.mail_gid)
            os.chmod(dirpath, 0o700)
        os.chmod(os.path.join(self.root, "mail"), 0o711)
        os.chown(os.path.join(self.root, "mail"), 0, 0)
        run_as_root = os.geteuid() == 0
        conf = textwrap.dedent(f"""\
            base_dir = {self.root}/run
            state_dir = {self.root}/state
            instance_name = pp-dovecot-{uuid.uuid4().hex[:8]}
            log_path = {self.root}/dovecot.log
            protocols = imap pop3
            listen = 127.0.0.1
            ssl = yes
            ssl_cert = <{self.cert}
            ssl_key = <{self.key}
            ssl_min_protocol = TLSv1.2
            disable_plaintext_auth = yes
            auth_mechanisms = plain login
            first_valid_uid = 1
            mail_location = maildir:~/Maildir
            pop3_uidl_format = %08Xu%08Xv
            {"" if run_as_root else f"default_login_user = {os.getlogin()}"}
            {"" if run_as_root else f"default_internal_user = {os.getlogin()}"}
            passdb {{
              driver = passwd-file
              args = scheme=PLAIN username_format=%u {passwd}
            }}
            userdb {{
              driver = passwd-file
              args = username_format=%u {passwd}
            }}
            service imap-login {{
              inet_listener imap {{
                address = 127.0.0.1
                port = {self.imap_port}
              }}
              inet_listener imaps {{
                address = 127.0.0.1
                port = {self.imaps_port}
                ssl = yes
              }}
            }}
            service pop3-login {{
              inet_listener pop3 {{
                port = 0
              }}
              inet_listener pop3s {{
                address = 127.0.0.1
                port = {self.pop3s_port}
                ssl = yes
              }}
            }}
            service anvil {{
              chroot =
            }}
            service stats {{
              inet_listener http {{
                port = 0
              }}
            }}
            """)
        self.conf = os.path.join(self.root, "dovecot.conf")
        with open(self.conf, "w", encoding="utf-8") as f:
            f.write(conf)
        self.proc = subprocess.Popen([DOVECOT, "-F", "-c", self.conf],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for port in (self.imaps_port, self.imap_port, self.pop3s_port):
            wait_port(port, self.proc, "dovecot")
        return self

    def log(self):
        try:
            with open(os.path.join(self.root, "dovecot.log"), encoding="utf-8",
                      errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def url(self, kind, mailbox="INBOX"):
        """imaps, imap (STARTTLS) or pop3s URL of this server."""
        if kind == "imaps":
            return f"imaps://127.0.0.1:{self.imaps_port}/{mailbox}"
        if kind == "imap":
            return f"imap://127.0.0.1:{self.imap_port}/{mailbox}"
        return f"pop3s://127.0.0.1:{self.pop3s_port}"

    def deliver(self, user, message):
        """Delivers message (bytes or str, CRLF or LF) into user's INBOX as an MTA does."""
        if isinstance(message, str):
            message = message.encode("utf-8")
        base = os.path.join(self.maildir(user), "Maildir")
        name = f"{time.time():.6f}.{uuid.uuid4().hex}.pptest"
        tmp = os.path.join(base, "tmp", name)
        with open(tmp, "wb") as f:
            f.write(message.replace(b"\r\n", b"\n"))
        os.chown(tmp, self.mail_uid, self.mail_gid)
        os.rename(tmp, os.path.join(base, "new", name))

    def waiting(self, user):
        """Messages still in user's INBOX (new + cur, not flagged deleted)."""
        base = os.path.join(self.maildir(user), "Maildir")
        count = 0
        for sub in ("new", "cur"):
            for name in os.listdir(os.path.join(base, sub)):
                flags = name.split(":2,", 1)[1] if ":2," in name else ""
                if "T" not in flags:
                    count += 1
        return count

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.root, ignore_errors=True)


SINK_SCRIPT = r'''
import os, sys, time, uuid, signal, threading
from aiosmtpd.controller import Controller

class Store:
    def __init__(self, directory):
        self.directory = directory
    async def handle_DATA(self, server, session, envelope):
        name = f"{time.time():.6f}-{uuid.uuid4().hex}.eml"
        head = (f"X-Sink-From: {envelope.mail_from}\r\n"
                f"X-Sink-To: {','.join(envelope.rcpt_tos)}\r\n").encode()
        tmp = os.path.join(self.directory, "." + name)
        with open(tmp, "wb") as f:
            f.write(head + envelope.original_content)
        os.rename(tmp, os.path.join(self.directory, name))
        return "250 stored"

directory, port = sys.argv[1], int(sys.argv[2])
controller = Controller(Store(directory), hostname="127.0.0.1", port=port)
controller.start()
print("ready", flush=True)
done = threading.Event()
signal.signal(signal.SIGTERM, lambda *a: done.set())
done.wait()
controller.stop()
'''


class SmtpSink:
    """An SMTP server on 127.0.0.1 that keeps every message it is given (no TLS, no AUTH:
    Pullprint's [smtp] security = plain, which is allowed to a loopback relay only)."""

    def __init__(self, directory):
        self.directory = directory
        os.makedirs(directory, exist_ok=True)
        self.port = free_port()
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen([SYSTEM_PYTHON, "-c", SINK_SCRIPT, self.directory,
                                      str(self.port)], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if line.strip() != "ready":
            raise AssertionError("SMTP sink did not start: " + self.proc.stderr.read())
        return self

    def messages(self):
        """Every stored message as email.message.EmailMessage, oldest first."""
        out = []
        for name in sorted(os.listdir(self.directory)):
            if name.startswith(".") or not name.endswith(".eml"):
                continue
            with open(os.path.join(self.directory, name), "rb") as f:
                out.append(email.message_from_binary_file(f, policy=email.policy.default))
        return out

    def to(self, address):
        return [m for m in self.messages() if address in m["X-Sink-To"]]

    def wait_for(self, address, count=1, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            got = self.to(address)
            if len(got) >= count:
                return got
            time.sleep(0.1)
        raise AssertionError(f"{count} mail(s) to {address} expected, "
                             f"got {len(self.to(address))}")

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
