"""Finding printers and knowing how they are, as an admin meets it with `pullprint printers
discover|probe|status`, against real peers on 127.0.0.1 (ephemeral ports, stopped by PID):

- two ippeveprinter instances on a private D-Bus (one colour, duplex, PDF + PWG raster; one
  monochrome, simplex, PWG raster only): capabilities detected right, status idle, supplies
  and trays read, "out of paper" seen, offline once stopped;
- Debian's snmpd serving a printer's Printer-MIB and HOST-RESOURCES-MIB rows through a `pass`
  helper (tests/e2e/snmp_printer_pass.py; snmpd implements neither MIB for a printer, and
  `override` only works for objects of MIBs it implements, so the host modules that would
  answer hrDevice/hrPrinter are switched off with -I): paper out and a jam mapped to IPP
  reasons and the state stopped, trays, supplies, model and MAC read;
- a private avahi-daemon where this machine can run one (root; see test_dnssd.py), on which
  an ippeveprinter advertises itself: `discover` lists it and `discover --add` registers it;
  where it cannot run, the test says why when it skips;
- a range with nothing in it: `probe` ends quickly with "nothing found".
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import time

import pytest

from conftest import Installation, Server, free_port
from test_dnssd import private_avahi  # noqa: F401  (the fixture, reused)

HERE = os.path.dirname(os.path.abspath(__file__))
PASS_SCRIPT = os.path.join(HERE, "snmp_printer_pass.py")
EVE = shutil.which("ippeveprinter") or "/usr/sbin/ippeveprinter"
SNMPD = "/usr/sbin/snmpd"

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


def stop_pid(proc):
    if proc is not None and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_for(predicate, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def port_open(port):
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def closed_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Peers:
    """Processes a test started; all stopped by PID at the end."""

    def __init__(self, root):
        self.root = root
        self.procs = []
        self.logs = []

    def start(self, argv, name, env=None):
        log = open(os.path.join(self.root, name + ".log"), "w", encoding="utf-8")
        self.logs.append(log)
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, env=env)
        self.procs.append(proc)
        return proc

    def log(self, name):
        with open(os.path.join(self.root, name + ".log"), encoding="utf-8",
                  errors="replace") as f:
            return f.read()

    def stop_all(self):
        for proc in reversed(self.procs):
            stop_pid(proc)
        for log in self.logs:
            log.close()


@pytest.fixture
def peers(tmp_path):
    p = Peers(str(tmp_path))
    yield p
    p.stop_all()


def private_bus(peers, root):
    """A private D-Bus (Debian's ippeveprinter exits without a system bus); its address."""
    if shutil.which("dbus-daemon") is None:
        pytest.skip("dbus-daemon is not installed (apt-get install dbus)")
    sock = os.path.join(root, "bus")
    conf = os.path.join(root, "bus.conf")
    with open(conf, "w", encoding="utf-8") as f:
        f.write(BUS_CONFIG.format(socket=sock))
    peers.start(["dbus-daemon", "--nofork", f"--config-file={conf}"], "dbus")
    assert wait_for(lambda: os.path.exists(sock)), peers.log("dbus")
    return f"unix:path={sock}"


def start_eve(peers, root, bus, name, model, formats, color, duplex, dnssd=False):
    """One ippeveprinter; returns (process, port)."""
    if not os.path.exists(EVE):
        pytest.skip("ippeveprinter is not installed (apt-get install cups-ipp-utils)")
    port = free_port()
    spool = os.path.join(root, name + "-spool")
    os.makedirs(spool, mode=0o700)
    argv = [EVE, "-p", str(port), "-f", formats, "-c", "/bin/true", "-d", spool,
            "-M", "Acme", "-m", model, "-s", "10,5" if color else "10,0"]
    if duplex:
        argv.append("-2")
    if not dnssd:
        argv += ["-r", "off"]
    argv.append(name)
    env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=bus)
    proc = peers.start(argv, name, env=env)
    assert wait_for(lambda: port_open(port) or proc.poll() is not None) and port_open(port), \
        peers.log(name)
    return proc, port


@pytest.fixture
def eves(tmp_path, peers):
    root = str(tmp_path)
    bus = private_bus(peers, root)
    color = start_eve(peers, root, bus, "colorjet", "ColorJet 500",
                      "application/pdf,image/pwg-raster", color=True, duplex=True)
    mono = start_eve(peers, root, bus, "monolaser", "Mono 100", "image/pwg-raster",
                     color=False, duplex=False)
    return {"color": color, "mono": mono}


# The Printer-MIB rows of one printer: paper out in tray 2 and a jam, 40% toner.
PRINTER_MIB = {
    "1.3.6.1.2.1.25.3.2.1.3.1": ["string", "Brother HL-5450DN series"],   # hrDeviceDescr
    "1.3.6.1.2.1.25.3.5.1.1.1": ["integer", "3"],                          # hrPrinterStatus idle
    "1.3.6.1.2.1.25.3.5.1.2.1": ["octet", "44 00"],                        # noPaper + jammed
    "1.3.6.1.2.1.43.5.1.1.16.1": ["string", "Floor2-Brother"],             # prtGeneralPrinterName
    "1.3.6.1.2.1.2.2.1.6.1": ["octet", "00 80 77 12 34 56"],               # ifPhysAddress.1
    # prtInputTable (device 1): dim unit micrometres, feed/xfeed, max, level, media, name
    "1.3.6.1.2.1.43.8.2.1.3.1.1": ["integer", "4"],
    "1.3.6.1.2.1.43.8.2.1.4.1.1": ["integer", "297000"],
    "1.3.6.1.2.1.43.8.2.1.5.1.1": ["integer", "210000"],
    "1.3.6.1.2.1.43.8.2.1.9.1.1": ["integer", "500"],
    "1.3.6.1.2.1.43.8.2.1.10.1.1": ["integer", "0"],
    "1.3.6.1.2.1.43.8.2.1.12.1.1": ["string", "iso_a4_210x297mm"],
    "1.3.6.1.2.1.43.8.2.1.13.1.1": ["string", "Tray 2"],
    "1.3.6.1.2.1.43.8.2.1.3.1.2": ["integer", "4"],
    "1.3.6.1.2.1.43.8.2.1.4.1.2": ["integer", "279400"],
    "1.3.6.1.2.1.43.8.2.1.5.1.2": ["integer", "215900"],
    "1.3.6.1.2.1.43.8.2.1.9.1.2": ["integer", "50"],
    "1.3.6.1.2.1.43.8.2.1.10.1.2": ["integer", "20"],
    "1.3.6.1.2.1.43.8.2.1.12.1.2": ["string", "na_letter_8.5x11in"],
    "1.3.6.1.2.1.43.8.2.1.13.1.2": ["string", "Bypass"],
    # prtMarkerSuppliesTable: colorant index, description, max, level
    "1.3.6.1.2.1.43.11.1.1.3.1.1": ["integer", "1"],
    "1.3.6.1.2.1.43.11.1.1.6.1.1": ["string", "Black Toner Cartridge"],
    "1.3.6.1.2.1.43.11.1.1.8.1.1": ["integer", "100"],
    "1.3.6.1.2.1.43.11.1.1.9.1.1": ["integer", "40"],
    "1.3.6.1.2.1.43.11.1.1.3.1.2": ["integer", "0"],
    "1.3.6.1.2.1.43.11.1.1.6.1.2": ["string", "Drum Unit"],
    "1.3.6.1.2.1.43.11.1.1.8.1.2": ["integer", "-2"],
    "1.3.6.1.2.1.43.11.1.1.9.1.2": ["integer", "-3"],
    "1.3.6.1.2.1.43.12.1.1.4.1.1": ["string", "black"],                    # prtMarkerColorantValue
}


@pytest.fixture
def snmp_printer(tmp_path, peers):
    """snmpd on a loopback UDP port answering as a network printer; returns the port."""
    if not os.path.exists(SNMPD) or shutil.which("snmpget") is None:
        pytest.skip("snmpd or snmpget is not installed (apt-get install snmpd snmp)")
    data = tmp_path / "printer-mib.json"
    data.write_text(json.dumps(PRINTER_MIB))
    conf = tmp_path / "snmpd.conf"
    conf.write_text(
        "rocommunity public 127.0.0.1\n"
        "sysdescr Brother NC-8300h, Firmware Ver.1.10\n"
        f"pass .1.3.6.1.2.1.25.3 {PASS_SCRIPT} {data}\n"
        f"pass .1.3.6.1.2.1.43 {PASS_SCRIPT} {data}\n"
        f"pass .1.3.6.1.2.1.2.2.1.6 {PASS_SCRIPT} {data}\n")
    port = closed_udp_port()
    persist = tmp_path / "snmp-persist"
    persist.mkdir(mode=0o700)
    env = dict(os.environ, SNMP_PERSISTENT_DIR=str(persist), MIBS="")
    # -I: the host-resources and interface modules would answer those subtrees themselves.
    peers.start([SNMPD, "-f", "-Lo", "-C", "-c", str(conf),
                 "-I", "-hr_device,hr_print,hr_other,interfaces,ifTable",
                 f"udp:127.0.0.1:{port}"], "snmpd", env=env)

    def answers():
        proc = subprocess.run(["snmpget", "-v2c", "-c", "public", "-t", "0.5", "-r", "0",
                               "-On", f"127.0.0.1:{port}", "1.3.6.1.2.1.25.3.5.1.1.1"],
                              capture_output=True, text=True, timeout=10)
        return proc.returncode == 0 and "INTEGER: 3" in proc.stdout
    assert wait_for(answers), peers.log("snmpd")
    return port


def probe_json(inst, *args):
    return json.loads(inst.cli("--json", "printers", "probe", *args).stdout)


def status_json(inst, *args):
    return json.loads(inst.cli("--json", "printers", "status", *args).stdout)


# ---- IPP: capabilities and status -------------------------------------------------------


def test_probe_detects_ipp_capabilities(sqlite_installation, eves):
    inst = sqlite_installation
    no_snmp = str(closed_udp_port())
    (color,) = probe_json(inst, "127.0.0.1", "--ipp-port", str(eves["color"][1]),
                          "--snmp-port", no_snmp, "--timeout", "500")
    assert color["uri"] == f"ipp://127.0.0.1:{eves['color'][1]}/ipp/print"
    assert color["make_and_model"] == "Acme ColorJet 500"
    assert color["formats"].split(",") == ["application/pdf", "image/pwg-raster"]
    assert (color["color"], color["duplex"]) == ("yes", "yes")

    (mono,) = probe_json(inst, "127.0.0.1", "--ipp-port", str(eves["mono"][1]),
                         "--snmp-port", no_snmp, "--timeout", "500")
    assert mono["make_and_model"] == "Acme Mono 100"
    assert mono["formats"] == "image/pwg-raster"
    assert (mono["color"], mono["duplex"]) == ("no", "no")

    # One step to add it, with what was detected.
    proc = inst.cli("printers", "probe", "127.0.0.1", "--ipp-port", str(eves["mono"][1]),
                    "--snmp-port", no_snmp, "--timeout", "500", "--add", "mono-2")
    assert "added printer mono-2" in proc.stderr
    listed = {p["name"]: p for p in inst.cli_json("printers", "list")}
    assert listed["mono-2"]["uri"] == mono["uri"]
    export = inst.cli("printers", "export", "--format", "json", check=False)
    if export.returncode == 0:  # the registry's export shows the stored capabilities
        (row,) = [r for r in json.loads(export.stdout) if r["name"] == "mono-2"]
        caps = row["capabilities"]
        caps = json.loads(caps) if isinstance(caps, str) else caps
        assert caps["formats"] == ["image/pwg-raster"]
        assert caps["is_color"] is False and caps["has_duplex"] is False
        assert caps["make_and_model"] == "Acme Mono 100"


def test_status_idle_paper_out_then_offline(sqlite_installation, eves):
    inst = sqlite_installation
    color_proc, color_port = eves["color"]
    mono_port = eves["mono"][1]
    inst.cli("printers", "add", "colorjet", "--uri", f"ipp://127.0.0.1:{color_port}/ipp/print")
    inst.cli("printers", "add", "monolaser", "--uri", f"ipp://127.0.0.1:{mono_port}/ipp/print")
    # Never asked yet: unknown, "never".
    (never,) = status_json(inst, "colorjet")
    assert never["state"] == "unknown" and never["checked_at"] == ""

    by_name = {s["name"]: s for s in status_json(inst, "--refresh")}
    assert by_name["colorjet"]["state"] == "idle", by_name
    assert by_name["monolaser"]["state"] == "idle"
    assert by_name["colorjet"]["error"] == ""
    supplies = {m["name"]: m for m in by_name["colorjet"]["markers"]}
    assert supplies["Black Ink"]["color"] == "black"
    assert 0 <= supplies["Black Ink"]["level"] <= 100 and supplies["Black Ink"]["max"] == 100
    assert "Black Toner" in {m["name"] for m in by_name["monolaser"]["markers"]}
    trays = {t["name"]: t for t in by_name["colorjet"]["trays"]}
    assert trays["main"]["media"] == "na_letter_8.5x11in"
    assert (trays["main"]["width_mm"], trays["main"]["height_mm"]) == (216, 279)

    # The paper runs out (ippeveprinter's media page sets the main tray's level to 0).
    import urllib.request
    query = ("size1=na_letter_8.5x11in&type1=stationery&level1=0&"
             "size2=na_index-4x6_4x6in&type2=photographic-glossy&level2=25")
    with urllib.request.urlopen(f"http://127.0.0.1:{color_port}/media?{query}",
                                timeout=10) as r:
        assert r.status == 200
    (paper_out,) = status_json(inst, "colorjet", "--refresh")
    assert "media-empty" in paper_out["reasons"], paper_out
    table = inst.cli("printers", "status", "colorjet").stdout
    assert "media-empty" in table and "main: na_letter_8.5x11in 0/" in table, table

    # Switched off: offline, with why.
    stop_pid(color_proc)
    (gone,) = status_json(inst, "colorjet", "--refresh", "--snmp-port",
                          str(closed_udp_port()))
    assert gone["state"] == "offline"
    assert "cannot connect" in gone["error"], gone


# ---- SNMP: Printer-MIB --------------------------------------------------------------------


def test_snmp_status_maps_errors_trays_supplies(sqlite_installation, snmp_printer):
    inst = sqlite_installation
    (found,) = probe_json(inst, "127.0.0.1", "--snmp-port", str(snmp_printer),
                          "--ipp-port", str(free_port()), "--timeout", "1000")
    assert found["make_and_model"] == "Brother HL-5450DN series"
    assert found["printer_name"] == "Floor2-Brother"
    assert found["mac"] == "00:80:77:12:34:56"
    assert found["state"] == "stopped"
    assert found["reasons"].split(",") == ["media-empty", "media-jam"]

    # A raw-port printer: its status comes from SNMP.
    inst.cli("printers", "add", "brother", "--uri", f"socket://127.0.0.1:{free_port()}")
    inst.cli("printers", "status", "brother", "--snmp-port", str(snmp_printer),
             "--community", "public")
    (st,) = status_json(inst, "brother", "--refresh")
    assert st["state"] == "stopped", st
    assert st["reasons"] == "media-empty,media-jam"
    assert st["error"] == ""
    assert st["trays"] == [
        {"name": "Tray 2", "media": "iso_a4_210x297mm", "width_mm": 210, "height_mm": 297,
         "level": 0, "max": 500},
        {"name": "Bypass", "media": "na_letter_8.5x11in", "width_mm": 216, "height_mm": 279,
         "level": 20, "max": 50},
    ]
    assert st["markers"] == [
        {"name": "Black Toner Cartridge", "color": "black", "level": 40, "max": 100},
        {"name": "Drum Unit", "color": "", "level": -3, "max": -2},
    ]
    table = inst.cli("printers", "status").stdout
    assert "Black Toner Cartridge 40%" in table and "Tray 2: iso_a4_210x297mm 0/500" in table

    # The community is a credential: a wrong one gets no answer, and is never printed.
    inst.cli("printers", "status", "brother", "--community", "not-the-one")
    (wrong,) = status_json(inst, "brother", "--refresh")
    assert wrong["state"] == "offline"
    assert "no answer" in wrong["error"] and "not-the-one" not in json.dumps(wrong)

    # An IPP printer whose IPP is gone falls back to SNMP.
    inst.cli("printers", "add", "brother-ipp", "--uri",
             f"ipp://127.0.0.1:{free_port()}/ipp/print")
    inst.cli("printers", "status", "brother-ipp", "--snmp-port", str(snmp_printer))
    (fallback,) = status_json(inst, "brother-ipp", "--refresh")
    assert fallback["state"] == "stopped" and "media-jam" in fallback["reasons"]
    assert "cannot connect" in fallback["error"]


def test_probe_add_keeps_snmp_settings(sqlite_installation, snmp_printer, eves):
    inst = sqlite_installation
    proc = inst.cli("printers", "probe", "127.0.0.1", "--snmp-port", str(snmp_printer),
                    "--ipp-port", str(eves["color"][1]), "--add", "floor2")
    assert "added printer floor2" in proc.stderr
    (st,) = status_json(inst, "floor2", "--refresh")
    assert st["snmp_port"] == snmp_printer
    assert st["state"] == "idle"  # IPP answers: its word wins over SNMP's


def test_server_refreshes_status_periodically(tmp_path, eves, server_factory):
    inst = Installation(str(tmp_path / "inst"))
    inst.write_config("[jobs]\nsweep_interval_s = 1\n")
    inst.cli("printers", "add", "colorjet", "--uri",
             f"ipp://127.0.0.1:{eves['color'][1]}/ipp/print")
    srv = server_factory(inst)
    assert wait_for(lambda: status_json(inst, "colorjet")[0]["state"] == "idle", 30), \
        srv.stderr()
    assert srv.stop() == 0


# ---- DNS-SD discovery ------------------------------------------------------------------------


def test_discover_without_avahi_says_what_to_do(sqlite_installation, tmp_path, monkeypatch):
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", f"unix:path={tmp_path}/no-bus")
    proc = sqlite_installation.cli("printers", "discover", "--timeout", "2", check=False)
    assert proc.returncode == 1
    assert "Avahi daemon" in proc.stderr and "printers probe" in proc.stderr, proc.stderr


def test_discover_lists_and_adds_an_announced_printer(sqlite_installation, tmp_path, peers,
                                                      private_avahi):  # noqa: F811
    inst = sqlite_installation
    _, port = start_eve(peers, str(tmp_path), private_avahi, "lobby", "LobbyJet 9",
                        "application/pdf", color=True, duplex=True, dnssd=True)

    def listed():
        rows = json.loads(inst.cli("--json", "printers", "discover", "--timeout", "3").stdout)
        return [r for r in rows if r["service"] == "lobby" and r["type"] == "_ipp._tcp"]
    assert wait_for(listed, 30), peers.log("lobby")
    (row,) = listed()
    assert row["uri"] == f"ipp://127.0.0.1:{port}/ipp/print"
    assert row["make_and_model"] == "Acme LobbyJet 9"

    inst.cli("printers", "discover", "--timeout", "3", "--add")
    names = {p["name"]: p for p in inst.cli_json("printers", "list")}
    assert "lobby" in names, names
    assert names["lobby"]["uri"].endswith(f"127.0.0.1:{port}/ipp/print")
    # Already registered: a second run adds nothing and says so.
    rows = json.loads(inst.cli("--json", "printers", "discover", "--timeout", "3",
                               "--add").stdout)
    assert {r["registered"] for r in rows if r["service"] == "lobby"} == {"lobby"}
    assert len([p for p in inst.cli_json("printers", "list")
                if p["uri"].endswith(f":{port}/ipp/print")]) == 1


# ---- a range with nothing in it ---------------------------------------------------------------


def test_probe_range_with_nothing_there_ends_quickly(sqlite_installation):
    closed = str(free_port())
    started = time.monotonic()
    proc = sqlite_installation.cli("printers", "probe", "127.0.0.0/28", "--ipp-port", closed,
                                   "--snmp-port", str(closed_udp_port()), "--timeout", "300")
    elapsed = time.monotonic() - started
    assert "nothing found at 127.0.0.0/28 (14 addresses probed)" in proc.stdout
    assert elapsed < 15, elapsed

    proc = sqlite_installation.cli("printers", "probe", "10.0.0.0/16", check=False)
    assert proc.returncode == 2 and "/24 or smaller" in proc.stderr
