"""Discovery as an admin and a phone meet it: the unicast DNS-SD records `pullprint
dns-sd-records` prints, the one clear log line when no Avahi daemon is there, and - where this
machine can run one - the service seen by `avahi-browse` through a private D-Bus and
avahi-daemon, both stopped by PID."""

import os
import re
import shutil
import signal
import subprocess
import time

import pytest

from conftest import PULLPRINT, Installation, Server

TXT_KEYS = ["txtvers", "qtotal", "rp", "ty", "product", "note", "adminurl", "pdl", "URF", "UUID",
            "TLS", "Color", "Duplex", "kind", "priority", "air", "printer-state"]

RECORD = re.compile(r"^(?P<owner>\S+\.)\tIN (?P<type>PTR|SRV|TXT)\t(?P<data>.+)$")
QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')


def txt_entries(data):
    """The character-strings of a zone-file TXT data field, unescaped."""
    assert re.fullmatch(r'"(?:[^"\\]|\\.)*"(?: "(?:[^"\\]|\\.)*")*', data), data
    return [re.sub(r"\\(.)", r"\1", s) for s in QUOTED.findall(data)]


def test_dns_sd_records_parse(sqlite_installation):
    proc = sqlite_installation.cli("dns-sd-records", "--domain", "example.com",
                                   "--host", "printhost.example.com", "--port", "8631")
    records = []
    for line in proc.stdout.splitlines():
        if line.startswith(";"):
            continue
        match = RECORD.match(line)
        assert match, f"not a zone-file record: {line!r}"
        records.append(match.groupdict())
    by_type = {}
    for r in records:
        by_type.setdefault(r["type"], []).append(r)

    ptrs = {r["owner"]: r["data"] for r in by_type["PTR"]}
    # Browse domains: clients whose search domain is example.com look here first.
    assert ptrs["b._dns-sd._udp.example.com."] == "example.com."
    assert ptrs["lb._dns-sd._udp.example.com."] == "example.com."
    instance = ptrs["_ipps._tcp.example.com."]
    assert instance == "Pullprint._ipps._tcp.example.com."
    assert ptrs["_universal._sub._ipps._tcp.example.com."] == instance
    assert ptrs["_print._sub._ipps._tcp.example.com."] == instance

    (srv,) = by_type["SRV"]
    assert srv["owner"] == instance
    assert srv["data"] == "0 0 8631 printhost.example.com."

    (txt,) = by_type["TXT"]
    assert txt["owner"] == instance
    entries = txt_entries(txt["data"])
    values = dict(e.split("=", 1) for e in entries)
    assert [k for k in TXT_KEYS if k not in values] == []
    assert all(len(e.encode()) <= 255 for e in entries), [len(e) for e in entries]
    assert values["rp"] == "ipp/print"
    assert values["TLS"] == "1.2"
    assert values["adminurl"] == "https://printhost.example.com:8631/"
    assert "application/pdf" in values["pdl"].split(",")
    assert "image/urf" in values["pdl"].split(",")
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
                        values["UUID"])


def test_dns_sd_records_need_a_domain(sqlite_installation):
    proc = sqlite_installation.cli("dns-sd-records", "--host", "printhost", check=False)
    assert proc.returncode == 2
    assert "--domain" in proc.stderr


def test_no_avahi_daemon_one_clear_line(tmp_path, monkeypatch, server_factory):
    # A bus address where nothing listens: the server must start and say so once.
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", f"unix:path={tmp_path}/no-bus")
    inst = Installation(str(tmp_path / "inst"))
    srv = server_factory(inst)
    lines = [l for l in srv.stderr().splitlines() if "dnssd." in l]
    assert len(lines) == 1, lines
    assert "dnssd.unavailable" in lines[0]
    assert "pullprint dns-sd-records" in lines[0]
    assert srv.stop() == 0


def test_dnssd_off_in_config(tmp_path, monkeypatch, server_factory):
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", f"unix:path={tmp_path}/no-bus")
    inst = Installation(str(tmp_path / "inst"))
    inst.write_config("[ipp]\ndnssd = no\n")
    srv = server_factory(inst)
    assert "dnssd." not in srv.stderr()
    assert srv.stop() == 0


BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""

AVAHI_CONFIG = """[server]
host-name=pullprint-test
use-ipv4=yes
use-ipv6=no
allow-interfaces=lo
enable-dbus=yes
ratelimit-interval-usec=1000000
ratelimit-burst=1000
[wide-area]
enable-wide-area=no
[publish]
publish-hinfo=no
publish-workstation=no
"""


def stop_pid(proc):
    if proc is not None and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_for(predicate, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def private_avahi(tmp_path, monkeypatch):
    """A private D-Bus and avahi-daemon on loopback; skips, saying why, where they cannot run."""
    for tool in ("dbus-daemon", "avahi-daemon", "avahi-browse"):
        if shutil.which(tool) is None and not os.path.exists(f"/usr/sbin/{tool}"):
            pytest.skip(f"avahi part not run: {tool} is not installed (scripts/install-deps)")
    if os.geteuid() != 0:
        pytest.skip("avahi part not run: avahi-daemon must start as root, even with "
                    "--no-drop-root, and this test runs as uid %d" % os.geteuid())
    if os.path.exists("/run/avahi-daemon/pid"):
        pytest.skip("avahi part not run: /run/avahi-daemon/pid exists (an avahi-daemon runs "
                    "here already, and it keeps its PID file at that fixed path)")
    sock = tmp_path / "bus"
    (tmp_path / "bus.conf").write_text(BUS_CONFIG.format(socket=sock))
    (tmp_path / "avahi.conf").write_text(AVAHI_CONFIG)
    bus = avahi = None
    avahi_log = open(tmp_path / "avahi.log", "w", encoding="utf-8")
    try:
        bus = subprocess.Popen(["dbus-daemon", "--nofork", f"--config-file={tmp_path}/bus.conf"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if not wait_for(sock.exists):
            stop_pid(bus)
            pytest.skip("avahi part not run: dbus-daemon did not start: "
                        + bus.stderr.read().decode(errors="replace"))
        address = f"unix:path={sock}"
        monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", address)
        avahi_bin = shutil.which("avahi-daemon") or "/usr/sbin/avahi-daemon"
        avahi = subprocess.Popen([avahi_bin, "--no-drop-root", "--no-chroot", "--no-rlimits",
                                  "-f", str(tmp_path / "avahi.conf")],
                                 stdout=avahi_log, stderr=subprocess.STDOUT)

        def started():
            return "Server startup complete" in (tmp_path / "avahi.log").read_text()
        if not wait_for(lambda: started() or avahi.poll() is not None) or not started():
            stop_pid(avahi)
            pytest.skip("avahi part not run: avahi-daemon did not start: "
                        + (tmp_path / "avahi.log").read_text())
        yield address
    finally:
        stop_pid(avahi)
        stop_pid(bus)
        avahi_log.close()


def browse(service_type):
    proc = subprocess.run(["avahi-browse", "-rpt", service_type], capture_output=True,
                          text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    return [line.split(";") for line in proc.stdout.splitlines() if line.startswith("=;")]


def test_avahi_browse_sees_the_service(tmp_path, private_avahi, server_factory):
    inst = Installation(str(tmp_path / "inst"))
    srv = server_factory(inst)
    assert wait_for(lambda: "dnssd.registered" in srv.stderr()), srv.stderr()

    # Resolved lines: =;iface;proto;name;type;domain;host;address;port;txt
    ours = [f for f in browse("_ipps._tcp") if f[8] == str(inst.https_port)]
    assert ours, "no _ipps._tcp service on our port: " + srv.stderr()
    entries = txt_entries(ours[0][9])
    values = dict(e.split("=", 1) for e in entries)
    assert [k for k in TXT_KEYS if k not in values] == []
    assert values["rp"] == "ipp/print"
    assert values["air"] == "username,password"

    # The subtypes a driverless client browses for, and no plain _ipp._tcp (HTTP is off).
    for subtype in ("_universal._sub._ipps._tcp", "_print._sub._ipps._tcp"):
        proc = subprocess.run(["avahi-browse", "-pt", subtype], capture_output=True, text=True,
                              timeout=30)
        assert ours[0][3] in proc.stdout, (subtype, proc.stdout)
    assert not [f for f in browse("_ipp._tcp") if f[3] == ours[0][3]]

    # The same TXT record as the unicast records print.
    records = inst.cli("dns-sd-records", "--domain", "example.com", "--host", "h.example.com",
                       "--port", str(inst.https_port)).stdout
    txt_line = next(l for l in records.splitlines() if "\tIN TXT\t" in l)
    unicast = dict(e.split("=", 1) for e in txt_entries(txt_line.split("\t")[2]))
    assert unicast["UUID"] == values["UUID"]
    assert unicast["pdl"] == values["pdl"]

    assert srv.stop() == 0
    assert "dnssd.withdrawn" in srv.stderr()
