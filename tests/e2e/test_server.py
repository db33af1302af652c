"""The server as an admin meets it: first start, the banner, files and permissions, the
HTTPS listener's answers, and a graceful stop."""

import os
import re
import signal
import socket
import ssl
import stat
import subprocess

import pytest
import requests

from conftest import PULLPRINTD, Installation, Server, metric_value

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_first_start_prints_url_and_admin_password_once(installation, server_factory):
    srv = server_factory(installation)
    out = srv.stdout()
    assert f"https://localhost:{installation.https_port}/" in out
    match = re.search(r"password:\s+(\S+)", out)
    assert match, out
    password = match.group(1)
    assert len(password) >= 20
    # The password is shown to the person starting the server, never written to the log.
    assert password not in srv.stderr()
    assert srv.stop() == 0

    again = server_factory(installation)
    assert "password:" not in again.stdout()
    assert again.stop() == 0


def test_state_is_private(sqlite_installation, server_factory):
    inst = sqlite_installation
    srv = server_factory(inst)
    assert mode(inst.state_dir) == 0o700
    assert mode(os.path.join(inst.state_dir, "keys")) == 0o700
    assert mode(os.path.join(inst.state_dir, "keys", "master.key")) == 0o600
    assert os.path.getsize(os.path.join(inst.state_dir, "keys", "master.key")) == 32
    assert mode(os.path.join(inst.state_dir, "pullprint.db")) == 0o600
    assert mode(os.path.join(inst.state_dir, "tls", "key.pem")) == 0o600
    assert mode(os.path.join(inst.state_dir, "spool")) == 0o700
    srv.stop()


def test_healthz_metrics_and_headers(installation, backend, server_factory):
    srv = server_factory(installation)
    # The self-signed certificate verifies for 127.0.0.1 against itself.
    r = srv.get("/healthz")
    assert r.status_code == 200
    assert r.json()["status"] == "ok"
    for name, value in SECURITY_HEADERS.items():
        assert r.headers.get(name) == value
    assert "max-age" in r.headers.get("Strict-Transport-Security", "")
    assert "no-store" in r.headers.get("Cache-Control", "")
    assert "frame-ancestors 'none'" in r.headers.get("Content-Security-Policy", "")
    assert re.search(r"\d", r.headers.get("Server", "")) is None  # no version

    m = srv.get("/metrics")
    assert m.status_code == 200
    assert m.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    assert "# TYPE pullprint_uptime_seconds gauge" in m.text
    assert re.search(r"^pullprint_http_requests_total\{.*\} \d+", m.text, re.M), m.text
    # SQLite: commits that wrote, and the log flushes that made them durable.
    commits = metric_value(m.text, "pullprint_db_commits_total")
    flushes = metric_value(m.text, "pullprint_db_log_flushes_total")
    if backend == "sqlite":
        assert "# TYPE pullprint_db_log_flushes_total counter" in m.text, m.text
        assert commits is not None and flushes is not None, m.text
    else:  # the PostgreSQL server flushes its own log
        assert commits is None and flushes is None, m.text

    nf = srv.get("/no/such/page")
    assert nf.status_code == 404
    assert nf.json()["error"]["status"] == 404
    assert nf.headers.get("X-Frame-Options") == "DENY"

    wrong = srv.request("DELETE", "/healthz")
    assert wrong.status_code == 405
    assert "GET" in wrong.headers.get("Allow", "")

    # An oversized body is refused from its Content-Length, before it is read.
    ctx = ssl.create_default_context(cafile=srv.ca)
    with socket.create_connection(("127.0.0.1", installation.https_port), timeout=30) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            tls.sendall(b"POST /no/such/upload HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        b"Content-Length: 2097152\r\n\r\n")
            status_line = tls.recv(4096).split(b"\r\n", 1)[0]
    assert status_line.split()[1] in (b"404", b"413"), status_line
    srv.stop()


def test_plain_http_is_off_by_default(sqlite_installation, server_factory):
    srv = server_factory(sqlite_installation)
    with pytest.raises(requests.exceptions.RequestException):
        requests.get(f"http://127.0.0.1:{sqlite_installation.https_port}/healthz", timeout=5)
    srv.stop()


def test_sqlite_log_written_out_at_start_and_kept(sqlite_installation, server_factory):
    """The default (the fixtures turn it off): the server writes SQLite's log file out to its
    working size at start, so commits do not grow it, and keeps it over a restart; what was
    stored before survives both, and the second start adds nothing."""
    inst = sqlite_installation
    inst.write_config("[server]\nsqlite_preallocate_log = yes\n")
    wal = os.path.join(inst.state_dir, "pullprint.db-wal")
    srv = server_factory(inst)
    assert "db.log_prepared added_mib=" in srv.stderr()
    size = os.path.getsize(wal)
    assert size >= 75 * 1024 * 1024  # 2 x 10,000 frames of a 4 KiB page: 78.6 MiB
    assert mode(wal) == 0o600
    inst.cli("users", "add", "ann@example.com")
    assert srv.stop() == 0
    assert os.path.getsize(wal) == size

    again = server_factory(inst)
    assert "db.log_prepared" not in again.stderr()
    assert os.path.getsize(wal) == size
    assert "ann@example.com" in inst.cli("users").stdout
    assert again.stop() == 0


def test_sigterm_stops_gracefully(sqlite_installation, server_factory):
    srv = server_factory(sqlite_installation)
    assert srv.stop(signal.SIGTERM) == 0
    log = srv.stderr()
    assert "server.stopping" in log and "server.stopped" in log


def test_bad_configuration_names_file_line_and_setting(sqlite_installation):
    inst = sqlite_installation
    inst.write_config("[spool]\nencrypt = perhaps\n")
    proc = subprocess.run([PULLPRINTD, "--config", inst.config], capture_output=True,
                          text=True, timeout=30)
    assert proc.returncode == 2
    assert f"{inst.config}:" in proc.stderr
    assert "[spool] encrypt: not yes or no" in proc.stderr


def test_port_in_use_is_a_clear_error(sqlite_installation, server_factory, tmp_path):
    srv = server_factory(sqlite_installation)
    other = Installation(str(tmp_path / "other"))
    other.https_port = sqlite_installation.https_port
    other.write_config()
    proc = subprocess.run([PULLPRINTD, "--config", other.config], capture_output=True,
                          text=True, timeout=30)
    assert proc.returncode != 0
    assert str(other.https_port) in proc.stderr
    srv.stop()


def test_unreadable_key_stops_the_server(sqlite_installation, server_factory):
    inst = sqlite_installation
    srv = server_factory(inst)
    srv.stop()
    os.chmod(os.path.join(inst.state_dir, "keys", "master.key"), 0o644)
    proc = subprocess.run([PULLPRINTD, "--config", inst.config], capture_output=True,
                          text=True, timeout=30)
    assert proc.returncode != 0
    assert "chmod 600" in proc.stderr
