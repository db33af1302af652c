"""Real printers for the delivery tests, all on 127.0.0.1 ephemeral ports, each stopped by PID:

- IPP Everywhere printers: `ippeveprinter` instances (Debian cups-ipp-utils) on a private
  dbus-daemon (Debian's build wants a system bus for DNS-SD; -r off keeps them off the
  network). Each keeps every job it received (-k) in its own spool directory; what it
  recorded about a job (format, copies, sides, colour, user, name) is read back with
  Get-Job-Attributes.
- A RAW (AppSocket, port 9100) listener that keeps the bytes of every connection.
- An LPD receiver (RFC 1179, written here): it acknowledges the receive-job subcommands and
  keeps each control file and data file.
"""

import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.request

import pytest

from conftest import free_port
from ipp_wire import attr, ipp_ints, ipp_request, ipp_status, ipp_strings

EVE = "/usr/sbin/ippeveprinter"
DBUS = "/usr/bin/dbus-daemon"

BUS_CONF = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>session</type><listen>unix:path={sock}</listen><auth>EXTERNAL</auth>
<policy context="default"><allow send_destination="*" eavesdrop="true"/>
<allow eavesdrop="true"/><allow own="*"/></policy></busconfig>
"""

# Extensions ippeveprinter gives kept files, by format.
EXTENSIONS = {"application/pdf": "pdf", "image/pwg-raster": "pwg", "image/urf": "urf"}


def wait_port(port, proc, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def stop_proc(proc, timeout=10):
    """TERM, then KILL if it lingers; reaped either way."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class EvePrinter:
    """One ippeveprinter: name, port, the formats it takes, colour or not."""

    def __init__(self, root, name, formats, color=True, env=None):
        self.name = name
        self.formats = formats
        self.color = color
        self.port = free_port()
        self.spool = os.path.join(root, name)
        self.keys = os.path.join(root, name + "-keys")
        self.log_path = os.path.join(root, name + ".log")
        self.env = env
        self.proc = None

    @property
    def uri(self):
        return f"ipp://127.0.0.1:{self.port}/ipp/print"

    @property
    def ipps_uri(self):
        """The same printer over TLS: ippeveprinter answers a TLS handshake on its port with
        the self-signed certificate it makes in its keys directory (-K)."""
        return f"ipps://127.0.0.1:{self.port}/ipp/print"

    def start(self):
        os.makedirs(self.spool, exist_ok=True)
        os.makedirs(self.keys, exist_ok=True)
        # -s 10,10: colour pages per minute too, so the printer says it prints colour.
        argv = [EVE, "-p", str(self.port), "-r", "off", "-2", "-k", "-f", self.formats,
                "-s", "10,10" if self.color else "10,0", "-c", "/bin/true", "-d", self.spool,
                "-K", self.keys, self.name]
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=self.env)
        if not wait_port(self.port, self.proc):
            raise AssertionError(f"ippeveprinter {self.name} did not start: "
                                 + open(self.log_path).read()[-2000:])
        return self

    def stop(self):
        """Takes the printer offline (its port then refuses connections)."""
        stop_proc(self.proc)
        if not self.log.closed:
            self.log.close()

    def ipp(self, op, operation=b""):
        body = ipp_request(op, self.uri, operation)
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}/ipp/print", data=body,
                                     headers={"Content-Type": "application/ipp"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.read()

    def job(self, job_id):
        """What the printer recorded about its job job_id: a dict of the attributes the
        tests look at (strings and integers as lists)."""
        content = self.ipp(0x0009, attr(0x21, "job-id", job_id.to_bytes(4, "big"))
                           + attr(0x44, "requested-attributes", b"all"))
        assert ipp_status(content) < 0x0400, content[:8]
        out = {}
        for name in ("job-name", "job-originating-user-name", "sides", "print-color-mode",
                     "document-format", "media", "document-format-supplied"):
            out[name] = ipp_strings(content, name)
        for name in ("copies", "job-state", "number-up", "job-impressions-completed"):
            out[name] = ipp_ints(content, name)
        return out

    def kept_files(self):
        """The files kept for received jobs, oldest job first: [(job_id, path)]."""
        files = []
        for entry in os.listdir(self.spool):
            head = entry.split("-", 1)[0]
            # ".prn" is what the print command (-c /bin/true) made of it: not received.
            if head.isdigit() and not entry.endswith(".prn"):
                files.append((int(head), os.path.join(self.spool, entry)))
        return sorted(files)

    def wait_jobs(self, count, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if len(self.kept_files()) >= count:
                return self.kept_files()
            time.sleep(0.05)
        raise AssertionError(f"{self.name}: {len(self.kept_files())} jobs, expected {count}")


class RawListener:
    """AppSocket: accepts connections one after the other and keeps each one's bytes
    (connections that send nothing, such as status checks, are not jobs)."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.jobs = []
        self.stopping = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    @property
    def uri(self):
        return f"socket://127.0.0.1:{self.port}"

    def run(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(30)
                data = b""
                try:
                    while True:
                        piece = conn.recv(65536)
                        if not piece:
                            break
                        data += piece
                except OSError:
                    pass
                if data:  # a status check connects and says nothing: no job
                    self.jobs.append(data)

    def stop(self):
        self.stopping = True
        self.thread.join(timeout=5)
        self.sock.close()


class LpdReceiver:
    """An RFC 1179 line printer daemon, enough to receive jobs: "\\x02queue\\n", then the
    subcommands "\\x02<len> cfA…" (control file) and "\\x03<len> dfA…" (data file), each
    acknowledged with a zero byte. Keeps [{"queue", "control", "data"}] per job."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.jobs = []
        self.errors = []
        self.stopping = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def uri(self, queue="lp"):
        return f"lpd://127.0.0.1:{self.port}/{queue}"

    @staticmethod
    def read_line(f):
        line = f.readline()
        if not line.endswith(b"\n"):
            raise ValueError("connection closed inside a command")
        return line[:-1]

    def serve(self, conn):
        f = conn.makefile("rb")
        if not f.peek(1):
            return  # a status check connects and says nothing: no job
        first = self.read_line(f)
        if first[:1] != b"\x02":
            raise ValueError(f"not a receive-job command: {first!r}")
        job = {"queue": first[1:].decode(), "control": b"", "data": b""}
        conn.sendall(b"\0")
        while True:
            line = f.readline()
            if not line:
                break
            kind, rest = line[:1], line[1:-1].decode()
            size, _, _ = rest.partition(" ")
            conn.sendall(b"\0")
            body = f.read(int(size))
            if f.read(1) != b"\0":
                raise ValueError("a file was not followed by a zero byte")
            if kind == b"\x02":
                job["control"] = body
            elif kind == b"\x03":
                job["data"] = body
            else:
                raise ValueError(f"unknown subcommand {kind!r}")
            conn.sendall(b"\0")
        self.jobs.append(job)

    def run(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(30)
                try:
                    self.serve(conn)
                except (OSError, ValueError) as e:
                    self.errors.append(str(e))

    def stop(self):
        self.stopping = True
        self.thread.join(timeout=5)
        self.sock.close()


class PrinterFarm:
    """The private bus and every printer started for one test; stop() stops them by PID."""

    def __init__(self, root):
        self.root = root
        os.makedirs(root, exist_ok=True)
        self.bus = None
        self.env = None
        self.printers = []
        self.listeners = []

    def start_bus(self):
        if not (os.access(EVE, os.X_OK) and os.access(DBUS, os.X_OK)):
            pytest.skip("ippeveprinter or dbus-daemon missing (apt-get install cups-ipp-utils "
                        "dbus)")
        conf = os.path.join(self.root, "bus.conf")
        sock = os.path.join(self.root, "bus")
        with open(conf, "w") as f:
            f.write(BUS_CONF.format(sock=sock))
        self.bus_log = open(os.path.join(self.root, "bus.log"), "w")
        self.bus = subprocess.Popen([DBUS, "--nofork", f"--config-file={conf}"],
                                    stdout=self.bus_log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL)
        deadline = time.time() + 15
        while not os.path.exists(sock) and time.time() < deadline:
            time.sleep(0.05)
        if not os.path.exists(sock):
            raise AssertionError("dbus-daemon did not start")
        self.env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=f"unix:path={sock}")

    def eve(self, name, formats, color=True):
        if self.bus is None:
            self.start_bus()
        printer = EvePrinter(self.root, name, formats, color=color, env=self.env).start()
        self.printers.append(printer)
        return printer

    def raw(self):
        listener = RawListener()
        self.listeners.append(listener)
        return listener

    def lpd(self):
        listener = LpdReceiver()
        self.listeners.append(listener)
        return listener

    def stop(self):
        for printer in self.printers:
            printer.stop()
        for listener in self.listeners:
            listener.stop()
        stop_proc(self.bus)
        if self.bus is not None:
            self.bus_log.close()


@pytest.fixture
def printer_farm(tmp_path):
    farm = PrinterFarm(str(tmp_path / "printers"))
    yield farm
    farm.stop()
    shutil.rmtree(str(tmp_path / "printers"), ignore_errors=True)
