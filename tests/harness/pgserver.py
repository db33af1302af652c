"""A private, throw-away PostgreSQL server for tests.

PgServer().start() runs initdb in a new temporary directory and starts postgres on 127.0.0.1
with a free ephemeral port and its unix socket inside that directory; .url is the URL the tests
connect with (the superuser "postgres", trusted on loopback); .stop() stops the server by PID
(SIGTERM, then SIGKILL after a timeout) and removes the directory.

Connections as the role "pp_test_password" need a password (scram-sha-256) although no such
role exists, so a test can check how a wrong password fails. PostgreSQL refuses to run as root:
as root, the server runs as the "postgres" system user.
"""

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time

PG_BIN = "/usr/lib/postgresql/15/bin"
SUPERUSER = "postgres"
PASSWORD_ROLE = "pp_test_password"
START_TIMEOUT_S = 60
STOP_TIMEOUT_S = 15

HBA = f"""# Written by tests/harness/pgserver.py: loopback only.
local all all trust
host all {PASSWORD_ROLE} 127.0.0.1/32 scram-sha-256
host all all 127.0.0.1/32 trust
"""


def _free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgServer:
    """One private PostgreSQL 15 server: start(), url, stop()."""

    def __init__(self, max_connections=200):
        self.max_connections = max_connections
        self.dir = None
        self.port = None
        self.proc = None
        self.url = None
        self._user = None  # (uid, gid) to run as when we are root

    def _preexec(self):
        if self._user is not None:
            uid, gid = self._user
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
            # Confirm the drop took: getting root back must fail.
            try:
                os.setuid(0)
            except PermissionError:
                pass
            else:
                os._exit(1)
        os.umask(0o077)

    def _run(self, argv):
        res = subprocess.run(argv, preexec_fn=self._preexec, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if res.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed ({res.returncode}):\n{res.stdout}")

    def start(self):
        """Creates the cluster and starts the server; returns when it accepts connections."""
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            self._user = (pw.pw_uid, pw.pw_gid)
        self.dir = tempfile.mkdtemp(prefix="pp-pg-")
        try:
            if self._user is not None:
                os.chown(self.dir, *self._user)
            data = os.path.join(self.dir, "data")
            self._run([os.path.join(PG_BIN, "initdb"), "-D", data, "-U", SUPERUSER,
                       "-E", "UTF8", "--locale=C", "--auth=trust", "--no-sync"])
            with open(os.path.join(data, "pg_hba.conf"), "w", encoding="utf-8") as f:
                f.write(HBA)
            last_log = ""
            for _ in range(5):  # another process may take the port between pick and bind
                self.port = _free_port()
                if self._start_postgres(data):
                    break
                last_log = self._read_log()
            else:
                raise RuntimeError("postgres did not start:\n" + last_log)
            self.url = f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/postgres"
        except BaseException:
            self.stop()
            raise
        return self

    def _read_log(self):
        try:
            with open(os.path.join(self.dir, "postgres.log"), encoding="utf-8",
                      errors="replace") as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def _start_postgres(self, data):
        """Starts postgres on self.port. True once it is ready; False if it exited."""
        log = open(os.path.join(self.dir, "postgres.log"), "ab")
        try:
            if self._user is not None:
                os.fchown(log.fileno(), *self._user)
            self.proc = subprocess.Popen(
                [os.path.join(PG_BIN, "postgres"), "-D", data, "-p", str(self.port),
                 "-k", self.dir,
                 "-c", "listen_addresses=127.0.0.1",
                 "-c", f"max_connections={self.max_connections}",
                 "-c", "fsync=off", "-c", "synchronous_commit=off",
                 "-c", "full_page_writes=off",
                 "-c", "password_encryption=scram-sha-256"],
                preexec_fn=self._preexec, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        finally:
            log.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.proc = None
                return False
            res = subprocess.run([os.path.join(PG_BIN, "pg_isready"), "-q", "-h", "127.0.0.1",
                                  "-p", str(self.port), "-U", SUPERUSER, "-d", "postgres"],
                                 stdin=subprocess.DEVNULL, check=False)
            if res.returncode == 0:
                return True
            time.sleep(0.1)
        self._stop_proc()
        return False

    def _stop_proc(self):
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()

    def stop(self):
        """Stops the server (if running) and removes its directory. Safe to call twice."""
        try:
            self._stop_proc()
        finally:
            if self.dir is not None:
                shutil.rmtree(self.dir, ignore_errors=True)
                self.dir = None
            self.url = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
