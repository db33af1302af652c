"""Fixtures for the end-to-end tests: the real pullprintd and pullprint binaries from the
build directory, each server in its own temporary state directory on a free loopback port,
stopped by PID at the end of the test.

Run with Debian's pytest: /usr/bin/python3 -m pytest tests/e2e (scripts/run-tests does).
PP_BUILD_DIR names the Meson build directory (default: build). PP_TEST_PG_URL, when set,
names a PostgreSQL server whose databases the `backend` fixture may use.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
import weakref

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.abspath(os.environ.get("PP_BUILD_DIR", os.path.join(ROOT, "build")))
PULLPRINTD = os.path.join(BUILD, "src", "cmd", "pullprintd")
PULLPRINT = os.path.join(BUILD, "src", "cmd", "pullprint")
PULLPRINT_CONVERT = os.path.join(BUILD, "src", "cmd", "pullprint-convert")

sys.path.insert(0, os.path.join(ROOT, "tests", "harness"))


def code_of(out):
    """The confirmation code `pullprint users add|code` printed."""
    match = re.search(r"confirmation code for \S+: (\d+)", out)
    assert match, out
    return match.group(1)


def metric_value(text, name):
    """A sample without labels from /metrics' Prometheus text, or None."""
    found = re.search(r"^%s (\S+)$" % re.escape(name), text, re.M)
    return float(found.group(1)) if found else None


def free_port():
    """A TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Installation:
    """One Pullprint installation: a state directory and a configuration file.

    Conversion is off unless convert=True ([convert] local = no: jobs stay received, as
    before the converter existed, unless a worker is started by hand). With convert=True
    the server runs a pool of `workers` pullprint-convert workers from the build directory.
    convert_settings (a dict) adds or overrides [convert] keys, e.g. {"timeout_s": 10,
    "max_attempts": 1}. delivery_settings (a dict) writes a [delivery] section, e.g.
    {"retry_delays": "200ms,200ms"}; none: the server's defaults. The workers' tmp_dir is in the test's directory, except as root:
    there the sandbox user must pass through every parent of it (docs/configuration.md) and
    pytest's directories are 0700, so it is a 0711 directory under /tmp, removed when the
    Installation is."""

    def __init__(self, root, database=None, convert=False, workers=2, convert_settings=None,
                 delivery_settings=None):
        self.root = root
        os.makedirs(root, exist_ok=True)
        self.state_dir = os.path.join(root, "state")
        self.config = os.path.join(root, "pullprint.conf")
        self.https_port = free_port()
        self.database = database
        self.convert = convert
        self.workers = workers
        if os.geteuid() == 0:
            self.convert_tmp_dir = tempfile.mkdtemp(prefix="pp-e2e-convert-", dir="/tmp")
            os.chmod(self.convert_tmp_dir, 0o711)
            weakref.finalize(self, shutil.rmtree, self.convert_tmp_dir, True)
        else:
            self.convert_tmp_dir = os.path.join(root, "convert-tmp")
        self.convert_settings = dict(convert_settings or {})
        self.delivery_settings = dict(delivery_settings or {})
        self.write_config()

    def convert_lines(self):
        """The [convert] section this installation's configuration holds (a worker started
        by hand, `pullprint-convert --queue`, reads it too)."""
        settings = {"local": "yes" if self.convert else "no", "tmp_dir": self.convert_tmp_dir}
        if self.convert:
            settings.update(program=PULLPRINT_CONVERT, workers=self.workers)
        settings.update(self.convert_settings)
        return ["[convert]"] + [f"{key} = {value}" for key, value in settings.items()]

    def write_config(self, extra=""):
        # The SQLite log is not written out to its working size (79 MiB) for every test's
        # server; test_server.py checks the default.
        lines = ["[server]", f"state_dir = {self.state_dir}", "log_level = debug",
                 "sqlite_preallocate_log = no"]
        if self.database:
            lines.append(f"database = {self.database}")
        lines += self.convert_lines()  # before [http]: some tests append bare [http] keys
        if self.delivery_settings:
            lines += ["[delivery]"] + [f"{key} = {value}"
                                       for key, value in self.delivery_settings.items()]
        lines += ["[http]", "listen_address = 127.0.0.1", f"https_port = {self.https_port}",
                  "threads = 2"]
        with open(self.config, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n" + extra)

    def cli(self, *args, check=True, input=None):
        """Runs `pullprint --config … ARGS`; returns the CompletedProcess (text)."""
        proc = subprocess.run([PULLPRINT, "--config", self.config, *args], capture_output=True,
                              text=True, input=input, timeout=120)
        if check and proc.returncode != 0:
            raise AssertionError(f"pullprint {' '.join(args)} exited {proc.returncode}: "
                                 f"{proc.stderr}")
        return proc

    def cli_json(self, *args):
        return json.loads(self.cli("--json", *args).stdout)

    def stored_documents(self):
        """`pullprint spool check`: every stored document read back, as an admin checks it.
        A dict with documents, in_database, files, bytes and damaged (a list)."""
        return self.cli_json("spool", "check")

    def plain_text_at_rest(self, needle):
        """Files under the state directory (spool files, the SQLite database and its log)
        that hold needle in clear."""
        found = []
        for dirpath, _, files in os.walk(self.state_dir):
            for name in files:
                path = os.path.join(dirpath, name)
                with open(path, "rb") as f:
                    if needle in f.read():
                        found.append(path)
        return found


class Server:
    """A running pullprintd; stdout and stderr are kept in files for the test to read."""

    def __init__(self, inst):
        self.inst = inst
        self.proc = None
        self.stdout_path = os.path.join(inst.root, f"stdout-{uuid.uuid4().hex[:8]}.log")
        self.stderr_path = self.stdout_path.replace("stdout-", "stderr-")

    @property
    def url(self):
        return f"https://127.0.0.1:{self.inst.https_port}"

    @property
    def ca(self):
        return os.path.join(self.inst.state_dir, "tls", "cert.pem")

    def start(self, wait=True, args=()):
        self.out = open(self.stdout_path, "w", encoding="utf-8")
        self.err = open(self.stderr_path, "w", encoding="utf-8")
        self.proc = subprocess.Popen([PULLPRINTD, "--config", self.inst.config, *args],
                                     stdout=self.out, stderr=self.err, stdin=subprocess.DEVNULL)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"pullprintd exited {self.proc.returncode}: {self.stderr()}")
            if "server.ready" in self.stderr():
                return
            time.sleep(0.05)
        raise AssertionError("pullprintd did not become ready: " + self.stderr())

    def stdout(self):
        with open(self.stdout_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def stderr(self):
        with open(self.stderr_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def stop(self, sig=signal.SIGTERM, timeout=30):
        """Signals the server and waits; returns its exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("pullprintd did not stop within %ss" % timeout)
        finally:
            self.out.close()
            self.err.close()

    def get(self, path, **kw):
        import requests
        return requests.get(self.url + path, verify=self.ca, timeout=30, **kw)

    def request(self, method, path, **kw):
        import requests
        return requests.request(method, self.url + path, verify=self.ca, timeout=30, **kw)


@pytest.fixture(scope="session")
def pg_url():
    url = os.environ.get("PP_TEST_PG_URL")
    if not url:
        pytest.fail("PP_TEST_PG_URL is not set: run the tests through scripts/run-tests")
    return url


def make_pg_database(admin_url):
    """Creates a fresh database on the test PostgreSQL and returns its URL."""
    import subprocess as sp
    name = "pp_e2e_" + uuid.uuid4().hex[:12]
    sp.run(["psql", admin_url, "-q", "-c", f"CREATE DATABASE {name}"], check=True,
           capture_output=True)
    # The harness URL ends in "/postgres" (no query string): swap the database name.
    return admin_url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request):
    return request.param


@pytest.fixture
def installation(tmp_path, backend, request):
    database = None
    if backend == "postgresql":
        database = make_pg_database(request.getfixturevalue("pg_url"))
    return Installation(str(tmp_path), database=database)


@pytest.fixture
def sqlite_installation(tmp_path):
    return Installation(str(tmp_path))


@pytest.fixture
def server_factory():
    servers = []

    def make(inst, **kw):
        srv = Server(inst)
        servers.append(srv)
        return srv.start(**kw)

    yield make
    for srv in servers:
        try:
            srv.stop(signal.SIGKILL, timeout=10)
        except Exception:  # the test already reported; do not mask it
            pass
