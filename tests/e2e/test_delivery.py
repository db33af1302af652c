"""Delivery end to end: held jobs released with `pullprint jobs release` come out of real
printers on 127.0.0.1 (printers_fixture.py) with the options the user chose; a printer that
is down is retried, then the next printer of its group takes the job; when none answers the
job is held again with a reason its owner reads; and the accounting export has the rows.
On SQLite and PostgreSQL.
"""

import csv
import io
import json
import socket
import time

import pytest

from conftest import Installation, make_pg_database
from printers_fixture import printer_farm  # noqa: F401 (a fixture)
from sample_docs import pdf

PDF_CAPS = {"formats": ["application/pdf", "image/pwg-raster"], "is_color": True,
            "has_duplex": True}


@pytest.fixture
def inst(tmp_path, backend, request):
    """An installation whose server converts (jobs reach held) and retries quickly: two
    pauses of 200 ms on a printer before failing over (the default is 5, 15 and 45 s)."""
    database = None
    if backend == "postgresql":
        database = make_pg_database(request.getfixturevalue("pg_url"))
    inst = Installation(str(tmp_path / "inst"), database=database, convert=True, workers=2,
                        delivery_settings={"retry_delays": "200ms,200ms"})
    inst.cli("users", "add", "ann@example.com")
    return inst


def add_printer(inst, name, uri, caps, group=None, fmt=None):
    args = ["printers", "add", name, "--uri", uri, "--caps", json.dumps(caps)]
    if group:
        args += ["--group", group]
    if fmt:
        args += ["--format", fmt]
    inst.cli(*args)


def submit(inst, tmp_path, title, options=None, pages=1):
    path = tmp_path / f"{title}.pdf"
    path.write_bytes(pdf(pages=pages, text=title))
    args = ["--json", "jobs", "submit", "--user", "ann@example.com", str(path), "--title", title]
    if options:
        args += ["--options", json.dumps(options)]
    return int(json.loads(inst.cli(*args).stdout)["id"])


def show(inst, job_id):
    return inst.cli_json("jobs", "show", str(job_id))[0]


def wait_state(inst, job_id, states, srv, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        job = show(inst, job_id)
        if job["state"] in states:
            return job
        if srv.proc.poll() is not None:
            raise AssertionError("pullprintd exited: " + srv.stderr()[-3000:])
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} is {job['state']} ({job['reason']}), expected "
                         f"{states}: " + srv.stderr()[-3000:])


def one(value):
    """The object of a --json answer that may come as a one-element list."""
    return value[0] if isinstance(value, list) else value


def release(inst, job_id, printer, *extra):
    return inst.cli("jobs", "release", str(job_id), "--printer", printer, *extra)


def accounting(inst):
    text = inst.cli("export", "accounting", "--format", "csv").stdout
    return {row["title"]: row for row in csv.DictReader(io.StringIO(text))}


def test_release_to_ipp_raw_and_lpd_printers(inst, tmp_path, server_factory, printer_farm):
    pdf_printer = printer_farm.eve("pdf", "application/pdf,image/pwg-raster")
    mono = printer_farm.eve("mono", "application/pdf", color=False)
    raw = printer_farm.raw()
    lpd = printer_farm.lpd()
    add_printer(inst, "Hall-PDF", pdf_printer.uri, PDF_CAPS)
    add_printer(inst, "Mono", mono.uri, {"formats": ["application/pdf"], "is_color": False,
                                         "mac_address": "00:11:22:33:44:55"})
    add_printer(inst, "Basement-Raw", raw.uri, {"formats": ["application/pdf"],
                                                "speaks_pjl": True})
    add_printer(inst, "Old-Lpd", lpd.uri("queue1"), {"formats": ["application/pdf"]})
    srv = server_factory(inst)

    jobs = {
        "Budget": submit(inst, tmp_path, "Budget",
                         {"copies": 2, "sides": "two-sided-long-edge",
                          "color_mode": "monochrome"}),
        "Poster": submit(inst, tmp_path, "Poster", {"copies": 3}),
        "Memo": submit(inst, tmp_path, "Memo", {"copies": 2, "sides": "two-sided-long-edge"}),
        "Letter": submit(inst, tmp_path, "Letter", {"copies": 2}),
    }
    for job_id in jobs.values():
        assert wait_state(inst, job_id, {"held", "failed"}, srv)["state"] == "held"
    release(inst, jobs["Budget"], "hall-pdf")  # by alias
    release(inst, jobs["Poster"], "Mono")
    release(inst, jobs["Memo"], "Basement-Raw")
    release(inst, jobs["Letter"], "Old-Lpd")
    for title, job_id in jobs.items():
        job = wait_state(inst, job_id, {"completed", "held"}, srv)
        assert job["state"] == "completed", (title, job)

    # IPP: the PDF as it is, with the options as job attributes, user and job name.
    [(printer_job, path)] = pdf_printer.wait_jobs(1)
    assert path.endswith(".pdf")
    kept = open(path, "rb").read()  # the converter's kept PDF, not rendered again
    assert kept.startswith(b"%PDF-") and kept.rstrip().endswith(b"%%EOF")
    got = pdf_printer.job(printer_job)
    assert got["copies"] == [2]
    assert got["sides"] == ["two-sided-long-edge"]
    assert got["print-color-mode"] == ["monochrome"]
    assert got["job-name"] == ["Budget"]
    assert got["job-originating-user-name"] == ["ann@example.com"]
    [(mono_job, _)] = mono.wait_jobs(1)
    assert mono.job(mono_job)["copies"] == [3]

    # RAW: a PJL envelope around the PDF.
    [data] = raw.jobs
    assert data.startswith(b"\x1b%-12345X@PJL")
    for line in (b"@PJL SET QTY=2", b"DUPLEX=ON", b"ENTER LANGUAGE=PDF", b"ann@example.com",
                 b"Memo"):
        assert line in data, line
    assert b"ENTER LANGUAGE=PDF\r\n%PDF-" in data

    # LPD: a control file naming the host, user and job, one print line per copy.
    [job] = lpd.jobs
    assert not lpd.errors
    assert job["queue"] == "queue1"
    control = job["control"].decode().splitlines()
    assert "Pann@example.com" in control
    assert "JLetter" in control and "NLetter" in control
    assert control[0].startswith("H")
    prints = [line for line in control if line.startswith("l")]
    assert len(prints) == 2 and prints[0][1:].startswith("dfA")
    assert job["data"].startswith(b"%PDF-") and job["data"].rstrip().endswith(b"%%EOF")

    # Accounting: pages times copies, colour only where it printed colour.
    rows = accounting(inst)
    assert rows["Budget"]["printer"] == "Hall-PDF"
    assert (rows["Budget"]["pages_mono"], rows["Budget"]["pages_color"]) == ("2", "0")
    assert rows["Budget"]["copies"] == "2" and rows["Budget"]["sheets"] == "2"
    assert rows["Budget"]["sides"] == "two-sided-long-edge"
    assert rows["Poster"]["printer_mac"] == "00:11:22:33:44:55"
    assert rows["Poster"]["pages_color"] == "0" and rows["Poster"]["pages_mono"] == "3"
    assert rows["Letter"]["printer"] == "Old-Lpd" and rows["Letter"]["copies"] == "2"
    for row in rows.values():
        assert row["final_state"] == "completed"
        assert row["user"] == "ann@example.com"
        assert row["server_name"] == socket.gethostname()
    show_job = show(inst, jobs["Memo"])
    assert show_job["printer"] == "Basement-Raw"


def test_raster_only_printer_gets_raster(inst, tmp_path, server_factory, printer_farm):
    """A printer that takes no PDF gets what the converter renders for it (PWG raster)."""
    raster = printer_farm.eve("raster", "image/pwg-raster,image/urf")
    add_printer(inst, "Raster", raster.uri, {"formats": ["image/pwg-raster", "image/urf"],
                                             "is_color": True})
    srv = server_factory(inst)
    job_id = submit(inst, tmp_path, "Photo", {"copies": 2}, pages=1)
    assert wait_state(inst, job_id, {"held", "failed"}, srv)["state"] == "held"
    release(inst, job_id, "Raster")
    job = wait_state(inst, job_id, {"completed", "held"}, srv, timeout=240)
    assert job["state"] == "completed", job
    [(printer_job, path)] = raster.wait_jobs(1)
    assert path.endswith(".pwg")
    assert open(path, "rb").read(4) == b"RaS2"
    got = raster.job(printer_job)
    # The copies are in the raster (two pages), so the printer was asked for one.
    assert got["copies"] in ([], [1])
    assert accounting(inst)["Photo"]["copies"] == "2"


def test_retry_then_failover_within_group(inst, tmp_path, server_factory, printer_farm):
    down = printer_farm.eve("f2-a", "application/pdf")
    live = printer_farm.eve("f2-b", "application/pdf")
    add_printer(inst, "F2-A", down.uri, {"formats": ["application/pdf"]}, group="floor2")
    add_printer(inst, "F2-B", live.uri, {"formats": ["application/pdf"]}, group="floor2")
    srv = server_factory(inst)
    job_id = submit(inst, tmp_path, "Agenda")
    assert wait_state(inst, job_id, {"held", "failed"}, srv)["state"] == "held"
    down.stop()  # goes offline before the release
    out = release(inst, job_id, "F2-A")
    assert "released to F2-A" in out.stdout + out.stderr
    job = wait_state(inst, job_id, {"completed", "held"}, srv)
    assert job["state"] == "completed", job
    assert job["printer"] == "F2-B"
    live.wait_jobs(1)
    log = srv.stderr()
    assert log.count("delivery.retry job=%d " % job_id) == 2
    assert "delivery.failover job=%d from=F2-A" % job_id in log
    assert accounting(inst)["Agenda"]["printer"] == "F2-B"


def test_offline_printer_job_comes_back_held(inst, tmp_path, server_factory, printer_farm):
    gone = printer_farm.eve("gone", "application/pdf")
    add_printer(inst, "Attic", gone.uri, {"formats": ["application/pdf"]})
    srv = server_factory(inst)
    job_id = submit(inst, tmp_path, "Notes")
    assert wait_state(inst, job_id, {"held", "failed"}, srv)["state"] == "held"
    gone.stop()  # offline mid-test
    release(inst, job_id, "Attic")
    deadline = time.time() + 60
    job = show(inst, job_id)
    while not (job["state"] == "held" and "did not answer" in job["reason"]):
        assert time.time() < deadline, job
        assert job["state"] in ("held", "releasing", "failed"), job
        time.sleep(0.05)
        job = show(inst, job_id)
    assert job["reason"] == (
        "The printer Attic did not answer (offline?); your job is held again: "
        "release it to another printer or try later."), job
    assert "held again" in job["reason"]
    assert "Notes" not in accounting(inst)
    # Held again means releasable again: to a printer that works.
    other = printer_farm.eve("other", "application/pdf")
    add_printer(inst, "Other", other.uri, {"formats": ["application/pdf"]})
    release(inst, job_id, "Other")
    assert wait_state(inst, job_id, {"completed"}, srv)["printer"] == "Other"


def test_release_refuses_what_it_cannot_do(inst, tmp_path, server_factory, printer_farm):
    add_printer(inst, "Somewhere", "socket://127.0.0.1:9", {"formats": ["application/pdf"]})
    srv = server_factory(inst)
    job_id = submit(inst, tmp_path, "Draft")
    assert wait_state(inst, job_id, {"held", "failed"}, srv)["state"] == "held"
    proc = inst.cli("jobs", "release", str(job_id), "--printer", "nowhere", check=False)
    assert proc.returncode == 3 and "no printer named nowhere" in proc.stderr
    proc = inst.cli("jobs", "release", str(job_id), "--printer", "Somewhere", "--options",
                    '{"copies": 0}', check=False)
    assert proc.returncode == 2 and "copies" in proc.stderr
    proc = inst.cli("jobs", "release", "999999", "--printer", "Somewhere", check=False)
    assert proc.returncode == 3


def test_ipps_self_signed_printer_is_pinned(inst, tmp_path, server_factory, printer_farm):
    """An ipps:// printer with a self-signed certificate: refused until the admin pins it
    with `printers trust`; then exactly that certificate is accepted, another is refused
    with "certificate changed"."""
    eve = printer_farm.eve("secure", "application/pdf")
    add_printer(inst, "Secure", eve.ipps_uri, {"formats": ["application/pdf"]})
    srv = server_factory(inst)
    first = submit(inst, tmp_path, "Unpinned")
    assert wait_state(inst, first, {"held", "failed"}, srv)["state"] == "held"
    release(inst, first, "Secure")
    deadline = time.time() + 60
    job = show(inst, first)
    while not (job["state"] == "held" and job["reason"]):
        assert time.time() < deadline, job
        time.sleep(0.05)
        job = show(inst, first)
    assert "certificate that is not trusted" in job["reason"], job
    assert "pullprint printers trust" in job["reason"], job
    assert "certificate is not trusted" in srv.stderr()  # the detail is the admin's
    assert eve.kept_files() == []

    # Trust on first use, by the admin: the fingerprint and subject are shown and stored.
    out = inst.cli_json("printers", "trust", "Secure")
    assert len(out["fingerprint"]) == 64 and out["self_signed"] is True
    assert out["subject"]
    assert one(inst.cli_json("printers", "show", "Secure"))["tls_pin"] == out["fingerprint"]
    release(inst, first, "Secure")
    assert wait_state(inst, first, {"completed", "held"}, srv)["state"] == "completed"
    eve.wait_jobs(1)

    # A different certificate (here: a wrong pin) is refused, saying what changed.
    wrong = "ab" * 32
    # The printer presents another certificate than the one given: refused, nothing stored.
    refused = inst.cli("printers", "trust", "Secure", "--fingerprint", wrong, check=False)
    assert refused.returncode == 4, refused.stderr
    assert "not the one given" in refused.stderr
    assert one(inst.cli_json("printers", "show", "Secure"))["tls_pin"] == out["fingerprint"]
    # An import (a roll-out from an asset list) sets whatever pin it carries.
    inst.cli("printers", "import", "-", "--format", "csv",
             input=f"name,tls_pin\r\nSecure,{wrong}\r\n")
    second = submit(inst, tmp_path, "Changed")
    assert wait_state(inst, second, {"held", "failed"}, srv)["state"] == "held"
    release(inst, second, "Secure")
    deadline = time.time() + 60
    job = show(inst, second)
    while not (job["state"] == "held" and job["reason"]):
        assert time.time() < deadline, job
        time.sleep(0.05)
        job = show(inst, second)
    # The owner reads what changed and what to do; the admin's log has the fingerprints.
    assert job["reason"] == (
        "The printer Secure has changed its certificate since it was pinned; your job is "
        "held again: release it to another printer and ask the administrator to check it "
        "(pullprint printers trust)."), job
    assert f"certificate changed: expected {wrong}, got {out['fingerprint']}" in srv.stderr()
    assert len(eve.kept_files()) == 1


def test_substitution_uses_the_paper_loaded_now(inst, tmp_path, server_factory, printer_farm):
    """The printer says it supports A4 and Letter, but its status (media-ready) says only one
    is loaded: a job asking for the other size is sent asking for the loaded one."""
    eve = printer_farm.eve("trays", "application/pdf")
    add_printer(inst, "Trays", eve.uri, {"formats": ["application/pdf"],
                                         "media": ["iso_a4_210x297mm", "na_letter_8.5x11in"]})
    status = one(inst.cli_json("printers", "status", "Trays", "--refresh"))
    loaded = [t["media"] for t in status["trays"] if t.get("media")]
    assert loaded, status
    if loaded[0].endswith("210x297mm"):
        asked, expected = "na_letter_8.5x11in", "iso_a4_210x297mm"
    else:
        assert loaded[0] == "na_letter_8.5x11in", loaded
        asked, expected = "iso_a4_210x297mm", "na_letter_8.5x11in"
    srv = server_factory(inst)
    job_id = submit(inst, tmp_path, "Loaded", {"media": asked})
    assert wait_state(inst, job_id, {"held", "failed"}, srv)["state"] == "held"
    release(inst, job_id, "Trays")
    assert wait_state(inst, job_id, {"completed", "held"}, srv)["state"] == "completed"
    [(printer_job, _)] = eve.wait_jobs(1)
    assert eve.job(printer_job)["media"] == [expected]
    assert "delivery.media_substituted job=%d" % job_id in srv.stderr()
