"""pullprintd loads mail, the directory, SNMP and libqrencode only when they are used.

An idle server maps none of them (issue 3: idle memory). Each is loaded by its first real
use, as an admin would cause it: a QR code of a printer's panel URL, an SNMP probe from the
console's discovery, a sign-in while a directory is configured, SMTP settings saved with
the command line. Each module loads into the real pullprintd here, so a core function that
pullprintd lacks fails this test too (dlopen with RTLD_NOW).
"""

import os
import time

from test_admin_api import ADMIN, ADMIN_PW, Console

# What an idle server must not map: the modules and the libraries they bring.
LAZY = {
    "mail": ["pullprint-mail.so", "libgmime-3.0.so", "libcurl"],
    "directory": ["pullprint-directory.so", "libldap"],
    "snmp": ["pullprint-snmp.so", "libnetsnmp"],
    "qr": ["libqrencode"],
}


def mapped(srv):
    """The file names the server process maps now."""
    with open(f"/proc/{srv.proc.pid}/maps", encoding="utf-8") as f:
        return {os.path.basename(line.split()[-1]) for line in f if "/" in line}


def has(names, part):
    return [n for n in names if any(n.startswith(lib) for lib in LAZY[part])]


def wait_mapped(srv, part, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if len(has(mapped(srv), part)) == len(LAZY[part]):
            return
        time.sleep(0.1)
    raise AssertionError(f"{part} not loaded: {sorted(mapped(srv))}\n{srv.stderr()}")


def wait_logged(srv, event, timeout=15):
    """The module is mapped before its start function runs and logs: wait for the line."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if event in srv.stderr():
            return
        time.sleep(0.1)
    raise AssertionError(f"{event} not logged:\n{srv.stderr()}")


def vm_rss_kib(srv):
    with open(f"/proc/{srv.proc.pid}/status", encoding="utf-8") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def test_idle_server_maps_no_optional_part_until_used(sqlite_installation, server_factory):
    inst = sqlite_installation
    inst.cli("admin", "add", ADMIN, input=ADMIN_PW + "\n")
    srv = server_factory(inst)
    time.sleep(1.5)  # a round of the mail watcher and the sweeper's first pass
    names = mapped(srv)
    for part in LAZY:
        assert has(names, part) == [], (part, has(names, part))
    print(f"idle VmRSS {vm_rss_kib(srv)} KiB")

    boss = Console(srv)
    boss.login(ADMIN, ADMIN_PW)
    # The dashboard lists mail accounts and directories: with none, nothing is loaded.
    assert boss("GET", "dashboard").status_code == 200
    names = mapped(srv)
    assert has(names, "mail") == [] and has(names, "directory") == []

    # A printer's panel QR code: libqrencode.
    r = boss("POST", "printers", json={"name": "Hall", "uri": "ipp://127.0.0.1:9/ipp/print"})
    assert r.status_code == 201, r.text
    r = boss("POST", f"printers/{r.json()['id']}/panel-token")
    assert r.status_code == 200 and r.json()["qr_svg"].startswith("<svg"), r.text
    wait_mapped(srv, "qr")

    # An SNMP probe of an address (nothing answers on loopback: the probe still ran).
    r = boss("POST", "discovery/probe", json={"targets": "127.0.0.1"})
    assert r.status_code == 200, r.text
    wait_mapped(srv, "snmp")

    # A directory configured (unreachable): a sign-in asks it, through the module.
    assert has(mapped(srv), "directory") == []
    inst.cli("directory", "add", "corp", "--uri", "ldaps://127.0.0.1:9", "--base",
             "dc=example,dc=com", "--bind-dn", "cn=svc,dc=example,dc=com",
             "--bind-password-stdin", input="service password\n")
    r = Console(srv)("POST", "login", json={"name": "alice", "password": "alice password"})
    assert r.status_code in (401, 503), r.text
    wait_mapped(srv, "directory")

    # SMTP settings saved by the command line: the watcher starts mail within a second or so.
    assert has(mapped(srv), "mail") == []
    inst.cli("mail", "smtp", "set", "--host", "127.0.0.1", "--port", "9", "--security",
             "plain", "--from", "printing@example.com")
    wait_mapped(srv, "mail")
    wait_logged(srv, "mail.started")
    assert "module.load_failed" not in srv.stderr()
    assert srv.stop() == 0
