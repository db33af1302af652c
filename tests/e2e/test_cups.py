"""Pullprint behind a real CUPS, as an admin sets it up: the `pullprint` CUPS backend run by
hand (discovery line, configuration errors, certificate pinning, a revoked token), and a
private cupsd on a loopback port that (a) adds Pullprint as a driverless IPP Everywhere queue
on a user's personal printer address and prints a PDF and a JPEG through it, and (b) forwards
a raw queue through the backend, where the job lands under the user CUPS names, and a user the
sender policy refuses ends the CUPS job instead of retrying it for ever.

The private cupsd runs as root in the foreground (-f) from a temporary ServerRoot whose
ServerBin holds symlinks to /usr/lib/cups/* plus a copy of the backend from the build
directory (mode 0700, as the install target sets it), so nothing is installed system-wide. It
is stopped by PID. Where the machine cannot run it (not root, packages missing), the tests
skip and say why.
"""

import hashlib
import os
import re
import shutil
import signal
import ssl
import subprocess
import tempfile
import time

import pytest

from conftest import BUILD, free_port
from sample_docs import pdf as make_pdf

BACKEND = os.environ.get("PP_BACKEND_BIN", os.path.join(BUILD, "src", "backend", "pullprint"))
CUPS_SERVERBIN = "/usr/lib/cups"
CUPSD = "/usr/sbin/cupsd"

# CUPS backend exit codes (cups/backend.h).
BACKEND_OK, BACKEND_FAILED, BACKEND_AUTH_REQUIRED, BACKEND_CANCEL = 0, 1, 2, 5
# IPP job states.
JOB_CANCELED, JOB_ABORTED, JOB_COMPLETED = 7, 8, 9


def wait_for(predicate, timeout=60, interval=0.2):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return None


def cert_fingerprint(pem_path):
    """The SHA-256 of a PEM certificate, as AB:CD:… like the server's banner."""
    with open(pem_path, encoding="ascii") as f:
        der = ssl.PEM_cert_to_DER_cert(f.read())
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def write_backend_conf(path, port, token, fingerprint=None):
    lines = ["[backend]", f"server = ipps://127.0.0.1:{port}", f"token = {token}"]
    if fingerprint:
        lines.append(f"fingerprint = {fingerprint}")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    os.chmod(path, 0o600)


def run_backend(conf_path, device_uri, document, user="someone@example.com",
                content_type="application/pdf"):
    """Runs the backend as cupsd would for one job; returns the CompletedProcess."""
    env = dict(os.environ, PULLPRINT_BACKEND_CONF=conf_path, DEVICE_URI=device_uri,
               CONTENT_TYPE=content_type)
    return subprocess.run([BACKEND, "42", user, "Backend test", "1", "", document],
                          capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture
def backend_bin():
    if not os.path.exists(BACKEND):
        pytest.fail(f"{BACKEND} is not built: add subdir('src/backend') and run ninja")
    return BACKEND


@pytest.fixture
def pullprint(sqlite_installation, server_factory):
    inst = sqlite_installation
    srv = server_factory(inst)
    return inst, srv


def forwarder_token(inst, name="cups-test"):
    out = inst.cli_json("forwarders", "add", name)
    assert re.fullmatch(r"ppf_[0-9a-f]{64}", out["token"]), out
    return out


# ---- the backend on its own -------------------------------------------------------------


def test_backend_lists_its_scheme(backend_bin):
    proc = subprocess.run([backend_bin], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == 'network pullprint "Unknown" "Pullprint (secure pull printing)"\n'


def test_backend_configuration_errors_say_what_to_do(backend_bin, tmp_path):
    doc = tmp_path / "doc.pdf"
    doc.write_bytes(make_pdf())
    proc = run_backend(str(tmp_path / "missing.conf"), "pullprint://127.0.0.1:1", str(doc))
    assert proc.returncode == BACKEND_FAILED
    assert "ERROR:" in proc.stderr and "cannot open" in proc.stderr, proc.stderr

    token = "ppf_" + "ab" * 32
    conf = tmp_path / "backend.conf"
    write_backend_conf(conf, 1, token)
    os.chmod(conf, 0o644)
    proc = run_backend(str(conf), "pullprint://127.0.0.1:1", str(doc))
    assert proc.returncode == BACKEND_FAILED and "chmod 600" in proc.stderr, proc.stderr

    os.chmod(conf, 0o600)
    proc = run_backend(str(conf), "ipps://127.0.0.1:1", str(doc))
    assert proc.returncode == BACKEND_FAILED
    assert "pullprint://HOST:PORT" in proc.stderr, proc.stderr
    assert token not in proc.stderr and token not in proc.stdout


def test_backend_checks_the_certificate_before_sending_the_token(backend_bin, pullprint,
                                                                 tmp_path):
    inst, srv = pullprint
    token = forwarder_token(inst)["token"]
    doc = tmp_path / "doc.pdf"
    doc.write_bytes(make_pdf())
    conf = tmp_path / "backend.conf"
    uri = f"pullprint://127.0.0.1:{inst.https_port}"

    # Self-signed and not pinned: refused, with the fingerprint to compare and pin.
    write_backend_conf(conf, inst.https_port, token)
    proc = run_backend(str(conf), uri, str(doc))
    assert proc.returncode == BACKEND_FAILED, proc.stderr
    assert "not trusted" in proc.stderr, proc.stderr
    fingerprint = cert_fingerprint(srv.ca)
    assert fingerprint.replace(":", "").lower() in proc.stderr

    # Pinned to another certificate: refused.
    other = "00:" * 31 + "00"
    write_backend_conf(conf, inst.https_port, token, other)
    proc = run_backend(str(conf), uri, str(doc))
    assert proc.returncode == BACKEND_FAILED
    assert "not the one pinned" in proc.stderr and "cups-pki-changed" in proc.stderr
    assert token not in proc.stderr
    assert inst.cli_json("jobs", "list") == []

    # A token the server does not know: authentication required, nothing stored.
    write_backend_conf(conf, inst.https_port, "ppf_" + "cd" * 32, fingerprint)
    proc = run_backend(str(conf), uri, str(doc))
    assert proc.returncode == BACKEND_AUTH_REQUIRED, proc.stderr
    assert "pullprint forwarders add" in proc.stderr
    assert inst.cli_json("jobs", "list") == []


def test_backend_by_hand_files_the_job_under_the_user(backend_bin, pullprint, tmp_path):
    inst, srv = pullprint
    inst.cli("users", "add", "someone@example.com")
    token = forwarder_token(inst)["token"]
    conf = tmp_path / "backend.conf"
    write_backend_conf(conf, inst.https_port, token, cert_fingerprint(srv.ca))
    doc = tmp_path / "doc.pdf"
    doc.write_bytes(make_pdf())
    proc = run_backend(str(conf), f"pullprint://127.0.0.1:{inst.https_port}", str(doc))
    assert proc.returncode == BACKEND_OK, proc.stderr
    assert "STATE: +connecting-to-device" in proc.stderr
    assert re.search(r"INFO: Pullprint holds the document as job \d+", proc.stderr)
    assert token not in proc.stderr
    jobs = inst.cli_json("jobs", "list", "--user", "someone@example.com")
    assert [j["title"] for j in jobs] == ["Backend test"], jobs

    # The same document on stdin (as after a CUPS filter): streamed chunked.
    env = dict(os.environ, PULLPRINT_BACKEND_CONF=str(conf),
               DEVICE_URI=f"pullprint://127.0.0.1:{inst.https_port}",
               CONTENT_TYPE="application/pdf")
    with open(doc, "rb") as f:
        proc = subprocess.run([backend_bin, "43", "someone@example.com", "From stdin", "1", ""],
                              stdin=f, capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == BACKEND_OK, proc.stderr
    titles = sorted(j["title"] for j in inst.cli_json("jobs", "list", "--user",
                                                      "someone@example.com"))
    assert titles == ["Backend test", "From stdin"]


# ---- a private cupsd --------------------------------------------------------------------

CUPS_FILES_CONF = """ServerRoot {root}/etc
ServerBin {root}/serverbin
DataDir /usr/share/cups
RequestRoot {root}/spool
TempDir {root}/spool/tmp
CacheDir {root}/cache
StateDir {root}/state
AccessLog {root}/log/access_log
ErrorLog {root}/log/error_log
PageLog {root}/log/page_log
FileDevice No
SystemGroup root
SetEnv PULLPRINT_BACKEND_CONF {backend_conf}
"""

CUPSD_CONF = """Listen 127.0.0.1:{port}
LogLevel debug
Browsing No
BrowseLocalProtocols none
WebInterface No
DefaultAuthType None
JobRetryInterval 2
JobRetryLimit 3
PreserveJobHistory Yes
<Location />
  Order allow,deny
  Allow all
</Location>
<Location /admin>
  Order allow,deny
  Allow all
</Location>
<Policy default>
  <Limit All>
    Order deny,allow
    Allow all
  </Limit>
</Policy>
"""

JOB_STATE_TEST = """{
  NAME "job state"
  OPERATION Get-Job-Attributes
  GROUP operation-attributes-tag
  ATTR charset attributes-charset utf-8
  ATTR naturalLanguage attributes-natural-language en
  ATTR uri printer-uri $uri
  ATTR integer job-id $job_id
  ATTR name requesting-user-name root
  ATTR keyword requested-attributes job-state,job-state-reasons,job-printer-state-message
  STATUS successful-ok
}
"""


class PrivateCups:
    """A cupsd in a temporary ServerRoot on 127.0.0.1:port, stopped by PID."""

    def __init__(self, root):
        self.root = root
        self.port = free_port()
        self.backend_conf = os.path.join(root, "backend.conf")
        self.proc = None
        self.env = dict(os.environ, CUPS_SERVER=f"127.0.0.1:{self.port}")

    def setup(self):
        for sub in ("etc", "etc/ppd", "serverbin", "serverbin/backend", "spool", "spool/tmp",
                    "cache", "state", "log"):
            os.makedirs(os.path.join(self.root, sub), exist_ok=True)
        # The backends and filters run as lp: they must be able to reach the spool.
        os.chmod(self.root, 0o755)
        os.makedirs(os.path.join(self.root, "etc", "ssl"), mode=0o770, exist_ok=True)
        shutil.chown(os.path.join(self.root, "etc", "ssl"), group="lp")
        for name in os.listdir(CUPS_SERVERBIN):
            if name != "backend":
                os.symlink(os.path.join(CUPS_SERVERBIN, name),
                           os.path.join(self.root, "serverbin", name))
        for name in os.listdir(os.path.join(CUPS_SERVERBIN, "backend")):
            os.symlink(os.path.join(CUPS_SERVERBIN, "backend", name),
                       os.path.join(self.root, "serverbin", "backend", name))
        # A copy, not a link: mode 0700 (cupsd then runs it as root), as installed.
        ours = os.path.join(self.root, "serverbin", "backend", "pullprint")
        shutil.copyfile(BACKEND, ours)
        os.chmod(ours, 0o700)
        with open(os.path.join(self.root, "etc", "cups-files.conf"), "w") as f:
            f.write(CUPS_FILES_CONF.format(root=self.root, backend_conf=self.backend_conf))
        with open(os.path.join(self.root, "etc", "cupsd.conf"), "w") as f:
            f.write(CUPSD_CONF.format(port=self.port))
        with open(os.path.join(self.root, "job-state.test"), "w") as f:
            f.write(JOB_STATE_TEST)

    def start(self):
        self.out = open(os.path.join(self.root, "cupsd.out"), "w")
        self.proc = subprocess.Popen(
            [CUPSD, "-f", "-c", os.path.join(self.root, "etc", "cupsd.conf"),
             "-s", os.path.join(self.root, "etc", "cups-files.conf")],
            stdout=self.out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

        def running():
            if self.proc.poll() is not None:
                return "exited"
            r = self.run("lpstat", "-r", check=False)
            return "running" if "is running" in r.stdout else None
        state = wait_for(running, timeout=30)
        if state != "running":
            self.stop()
            pytest.skip("cupsd did not start here: " + self.log()[-3000:])

    def log(self):
        text = ""
        for name in ("cupsd.out", "log/error_log"):
            path = os.path.join(self.root, name)
            if os.path.exists(path):
                with open(path, encoding="utf-8", errors="replace") as f:
                    text += f"--- {name}\n" + f.read()
        return text

    def run(self, *args, check=True):
        proc = subprocess.run(list(args), capture_output=True, text=True, env=self.env,
                              timeout=120)
        if check and proc.returncode != 0:
            raise AssertionError(f"{' '.join(args)} exited {proc.returncode}: {proc.stderr}"
                                 + "\n" + self.log()[-4000:])
        return proc

    def lp(self, queue, path, *extra):
        out = self.run("lp", "-d", queue, *extra, path).stdout
        match = re.search(r"request id is \S+-(\d+)", out)
        assert match, out
        return int(match.group(1))

    def job_state(self, queue, job_id):
        """(job-state, reasons, message) of a CUPS job, from cupsd over IPP."""
        proc = self.run("ipptool", "-tv", "-d", f"job_id={job_id}",
                        f"ipp://127.0.0.1:{self.port}/printers/{queue}",
                        os.path.join(self.root, "job-state.test"), check=False)
        state = re.search(r"job-state \(enum\) = (\S+)", proc.stdout)
        reasons = re.search(r"job-state-reasons \([^)]*\) = (.*)", proc.stdout)
        message = re.search(r"job-printer-state-message \([^)]*\) = (.*)", proc.stdout)
        names = {"pending": 3, "pending-held": 4, "processing": 5, "processing-stopped": 6,
                 "canceled": 7, "aborted": 8, "completed": 9}
        return (names.get(state.group(1), 0) if state else 0,
                reasons.group(1) if reasons else "", message.group(1) if message else "")

    def wait_job_done(self, queue, job_id, timeout=120):
        result = wait_for(lambda: (lambda s: s if s[0] >= JOB_CANCELED else None)(
            self.job_state(queue, job_id)), timeout=timeout, interval=0.5)
        assert result, (f"CUPS job {job_id} on {queue} did not finish: "
                        f"{self.job_state(queue, job_id)}\n" + self.log()[-6000:])
        return result

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None:
            self.out.close()


@pytest.fixture
def cups(backend_bin):
    if os.geteuid() != 0:
        pytest.skip("private cupsd not run: cupsd must start as root to run backends and "
                    "filters as lp and the pullprint backend as root; this test runs as uid "
                    f"{os.geteuid()}")
    missing = [path for path, package in ((CUPSD, "cups-daemon"), ("/usr/bin/lp", "cups-client"),
                                          ("/usr/sbin/lpadmin", "cups-client"),
                                          ("/usr/bin/ipptool", "cups-ipp-utils"),
                                          ("/usr/lib/cups/filter/pdftopdf", "cups-filters"),
                                          ("/usr/bin/gs", "ghostscript"))
               if not os.path.exists(path)]
    if missing:
        pytest.skip("private cupsd not run: missing " + ", ".join(missing)
                    + " (run scripts/install-deps)")
    root = tempfile.mkdtemp(prefix="pp-cups-", dir="/tmp")
    server = PrivateCups(root)
    try:
        server.setup()
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


def test_driverless_queue_prints_pdf_and_jpeg_into_the_users_queue(cups, pullprint,
                                                                    tmp_path):
    inst, srv = pullprint
    inst.cli("users", "add", "anna@example.com")
    uri = inst.cli_json("users", "printer-uri", "add", "anna@example.com",
                        "--label", "CUPS test")["uri"]
    # The address names this machine's host name; CUPS reaches the server on loopback.
    token = uri.rsplit("/", 1)[1]
    # waitjob=false: CUPS's ipp backend otherwise waits for the job to be printed, and a
    # held job prints only when its owner releases it, so the queue would stall.
    device = f"ipps://127.0.0.1:{inst.https_port}/ipp/print/u/{token}?waitjob=false"
    cups.run("lpadmin", "-p", "phone", "-E", "-v", device, "-m", "everywhere")

    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(make_pdf(text="Quarterly report"))
    jpeg = tmp_path / "photo.jpg"
    subprocess.run(["gs", "-q", "-dSAFER", "-dNOPAUSE", "-dBATCH", "-sDEVICE=jpeggray",
                    "-r10", f"-sOutputFile={jpeg}", str(pdf)], check=True, timeout=60)

    pdf_job = cups.lp("phone", str(pdf), "-t", "Quarterly report")
    jpeg_job = cups.lp("phone", str(jpeg), "-t", "Holiday photo")
    for job_id in (pdf_job, jpeg_job):
        state, reasons, message = cups.wait_job_done("phone", job_id)
        assert state == JOB_COMPLETED, (job_id, state, reasons, message, cups.log()[-6000:])

    jobs = inst.cli_json("jobs", "list", "--user", "anna@example.com")
    assert sorted(j["title"] for j in jobs) == ["Holiday photo", "Quarterly report"], jobs
    assert all(j["state"] in ("received", "held") for j in jobs), jobs
    assert all(j["source"] == "ipp" for j in jobs), jobs


def test_forwarder_queue_files_jobs_under_the_cups_user(cups, pullprint, tmp_path):
    inst, srv = pullprint
    inst.cli("users", "add", "someone@example.com")
    token = forwarder_token(inst)["token"]
    write_backend_conf(cups.backend_conf, inst.https_port, token, cert_fingerprint(srv.ca))
    # A raw queue (no PPD): CUPS would add its raw-queue default print-color-mode=monochrome
    # to every job; auto leaves colour to the document, as docs/desktop-printing.md says.
    cups.run("lpadmin", "-p", "office", "-E", "-v", f"pullprint://127.0.0.1:{inst.https_port}",
             "-o", "print-color-mode-default=auto")

    pdf = tmp_path / "minutes.pdf"
    pdf.write_bytes(make_pdf(text="Minutes"))
    job_id = cups.lp("office", str(pdf), "-U", "someone@example.com", "-t", "Board minutes")
    state, reasons, message = cups.wait_job_done("office", job_id)
    assert state == JOB_COMPLETED, (state, reasons, message, cups.log()[-6000:])
    jobs = inst.cli_json("jobs", "list", "--user", "someone@example.com")
    assert [j["title"] for j in jobs] == ["Board minutes"], jobs
    assert jobs[0]["state"] in ("received", "held"), jobs

    # A user the server does not know, and a policy that stores nothing from strangers:
    # the CUPS job ends at once (canceled), it is not retried, the queue keeps working.
    inst.cli("settings", "set", "users.unknown_sender_policy", "reject")
    job_id = cups.lp("office", str(pdf), "-U", "stranger@example.org", "-t", "Not welcome")
    state, reasons, message = cups.wait_job_done("office", job_id, timeout=60)
    assert state in (JOB_CANCELED, JOB_ABORTED), (state, reasons, message)
    log = cups.log()
    assert f"[Job {job_id}] Backend returned status 5" in log, log[-6000:]
    assert f"[Job {job_id}] Backend returned status 6" not in log  # never "retry"
    assert not [j for j in inst.cli_json("jobs", "list") if j["title"] == "Not welcome"]
    printers = cups.run("lpstat", "-p", "office").stdout
    assert "disabled" not in printers, printers
