"""The admin console (web/admin) in headless Chromium against the real server and real
ippeveprinters: an admin signs in, adds a printer by URI and prints a test page that the
printer receives, sees a bad setting value refused with the server's message, changes the
retention, regenerates the company code, approves a pending user; after some printing the
reports' CSV matches the accounting and the audit log shows those actions; a help-desk
account has no write button and the server refuses its writes; the console signs out after
the idle time, and a throttled sign-in shows the wait. Screenshots of each page are kept (browser.py).
"""

import csv
import io
import json
import time

import requests

import browser
from conftest import Installation
from printers_fixture import printer_farm  # noqa: F401 (a fixture)
from sample_docs import pdf

PASSWORD = "correct horse battery staple"
DESK_PASSWORD = "help desk password 1"
PDF_CAPS = {"formats": ["application/pdf", "image/pwg-raster"], "is_color": True,
            "has_duplex": True}


def wait_state(inst, job_id, states, srv, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        job = inst.cli_json("jobs", "show", str(job_id))[0]
        if job["state"] in states:
            return job
        assert srv.proc.poll() is None, "pullprintd exited: " + srv.stderr()[-3000:]
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} is {job['state']} ({job['reason']}), expected {states}")


def print_jobs(inst, srv, tmp_path, printer):
    """Two jobs of ann printed on printer: one simplex, one mono duplex (2 pages). (The sample
    PDF is black text: the accounting counts its pages as mono either way.)"""
    specs = [("Poster", {"copies": 1}, 1),
             ("Minutes", {"sides": "two-sided-long-edge", "color_mode": "monochrome"}, 2)]
    ids = []
    for title, options, pages in specs:
        path = tmp_path / f"{title}.pdf"
        path.write_bytes(pdf(pages=pages, text=title))
        out = inst.cli("--json", "jobs", "submit", "--user", "ann@example.com", str(path),
                       "--title", title, "--options", json.dumps(options)).stdout
        ids.append(int(json.loads(out)["id"]))
    for job_id in ids:
        assert wait_state(inst, job_id, {"held", "failed"}, srv)["state"] == "held"
        inst.cli("jobs", "release", str(job_id), "--printer", printer)
    for job_id in ids:
        assert wait_state(inst, job_id, {"completed", "failed"}, srv)["state"] == "completed"


def api_session(srv, name, password):
    """A requests session signed in to the admin API; returns (session, csrf_token). The CA
    is given on each call: a session's verify loses to REQUESTS_CA_BUNDLE."""
    s = requests.Session()
    r = s.post(srv.url + "/api/v1/admin/login", json={"name": name, "password": password},
               verify=srv.ca, timeout=30)
    assert r.status_code == 200, r.text
    return s, r.json()["csrf_token"]


def test_admin_console(tmp_path, server_factory, printer_farm):
    inst = Installation(str(tmp_path / "inst"), convert=True, workers=2,
                        delivery_settings={"retry_delays": "200ms,200ms"})
    hall = printer_farm.eve("hall", "application/pdf,image/pwg-raster")
    lobby = printer_farm.eve("lobby", "application/pdf,image/pwg-raster")
    inst.cli("printers", "add", "Hall", "--uri", hall.uri, "--caps", json.dumps(PDF_CAPS))
    inst.cli("users", "add", "ann@example.com", "--department", "Sales")
    inst.cli("users", "add", "pat@example.com", "--pending")
    srv = server_factory(inst)
    inst.cli("admin", "passwd", "admin", input=PASSWORD + "\n")
    api, csrf = api_session(srv, "admin", PASSWORD)
    r = api.post(srv.url + "/api/v1/admin/admins", headers={"X-CSRF-Token": csrf},
                 json={"name": "desk", "password": DESK_PASSWORD, "role": "helpdesk"},
                 verify=srv.ca, timeout=30)
    assert r.status_code == 201, r.text
    print_jobs(inst, srv, tmp_path, "Hall")
    params = {"admin": "admin", "password": PASSWORD, "helpdesk": "desk",
              "helpdeskPassword": DESK_PASSWORD, "printerUri": lobby.uri,
              "pendingUser": "pat@example.com", "retentionHours": 48, "idleTimeoutS": 900}

    # An admin at work.
    got = browser.run_scenario("admin-console", srv, params)
    assert "Jobs by state" in got["dashboardCards"] and "Printers" in got["dashboardCards"]
    [(_, kept)] = lobby.wait_jobs(1)  # the test page reached the printer
    assert open(kept, "rb").read().startswith(b"%PDF-")
    assert got["panelUrl"].startswith("https://") and "/panel/" in got["panelUrl"]
    assert "1..8760" in got["refusal"], got["refusal"]  # the server's words, beside the field
    assert inst.cli("settings", "get", "jobs.retention_hours").stdout.strip() == "48"
    assert got["policyOptions"] == ["accept", "hold", "reject"]
    assert got["newCode"] != got["oldCode"]
    assert api.get(srv.url + "/api/v1/admin/company-code", verify=srv.ca,
                   timeout=30).json()["code"] == got["newCode"]
    users = {u["email"]: u for u in inst.cli_json("users", "list")}
    assert users["pat@example.com"]["state"] == "enabled"
    assert got["approvedState"] == "active"
    assert got["jobsShown"] >= 2

    # Reports after the printing, the audit log, CSRF, a phone.
    got = browser.run_scenario("admin-reports", srv, params)
    accounting = list(csv.DictReader(io.StringIO(
        inst.cli("export", "accounting", "--format", "csv").stdout)))
    rows = {row["user"]: row for row in csv.DictReader(io.StringIO(got["reportCsv"]))}
    assert got["reportCsvName"].endswith(".csv")
    ann = [r for r in accounting if r["user"] == "ann@example.com"]
    assert len(ann) == 2
    assert int(rows["ann@example.com"]["jobs"]) == len(ann)
    for user, row in rows.items():
        mine = [r for r in accounting if r["user"] == user]
        assert int(row["jobs"]) == len(mine), (user, row)
        assert int(row["mono_pages"]) == sum(int(r["pages_mono"]) for r in mine), (user, row)
        assert int(row["colour_pages"]) == sum(int(r["pages_color"]) for r in mine), (user, row)
        assert int(row["pages"]) == int(row["mono_pages"]) + int(row["colour_pages"])
        assert int(row["pages"]) == int(row["simplex_pages"]) + int(row["duplex_pages"])
    assert int(rows["ann@example.com"]["duplex_pages"]) > 0
    assert got["tableRows"] == len(rows) and got["chartBars"] >= len(rows)
    assert "Hall" in got["printerKeys"]
    export = json.loads(got["exportText"])
    assert "@" not in got["exportText"]  # pseudonymised: no address anywhere
    assert len(export if isinstance(export, list) else export.get("items", export.get("rows", []))) \
        == len(accounting)
    actions = " ".join(got["auditActions"])
    for word in ("setting", "printer", "approve", "company"):
        assert word in actions, (word, got["auditActions"])
    assert got["auditSearched"] >= 1
    assert got["auditCsv"].splitlines()[0].startswith("at,")
    assert got["noCsrf"]["status"] == 403 and got["noCsrf"]["body"]["error"]["code"] == "csrf"
    assert inst.cli("settings", "get", "jobs.retention_hours").stdout.strip() == "48"

    # Help desk: read only; idle sign-out.
    got = browser.run_scenario("admin-helpdesk", srv, params)
    assert got["visibleSaveButtons"] == 0 and not got["regenerateVisible"]
    assert got["printerWriteButtons"] == 0 and got["userWriteButtons"] == 0
    assert got["write"]["status"] == 403
    assert got["write"]["body"]["error"]["code"] == "read_only"
    assert "signed out in" in got["warning"]
    assert "signed out after 15 minutes" in got["signedOutText"]
    assert got["sessionAfter"] == 401
    assert "Too many attempts" in got.get("throttled", ""), got
    assert got["signInDisabled"]
    assert inst.cli("settings", "get", "jobs.retention_hours").stdout.strip() == "48"


def test_admin_console_actions(tmp_path, server_factory, printer_farm):  # noqa: F811
    """The row actions of the console in Chromium: users (add, disable, new code, delete),
    jobs (cancel, reprint a printed job kept under jobs.printed_policy = keep, delete) and
    printers (edit, disable, remove), each then checked from the command line or the API."""
    inst = Installation(str(tmp_path / "inst"), convert=True, workers=2,
                        delivery_settings={"retry_delays": "200ms,200ms"})
    hall = printer_farm.eve("hall", "application/pdf,image/pwg-raster")
    inst.cli("printers", "add", "Hall", "--uri", hall.uri, "--caps", json.dumps(PDF_CAPS))
    inst.cli("printers", "add", "Spare", "--uri", "ipp://127.0.0.1:9/ipp/print")
    inst.cli("users", "add", "ann@example.com", "--department", "Sales")
    inst.cli("settings", "set", "jobs.printed_policy", "keep")
    srv = server_factory(inst)
    inst.cli("admin", "passwd", "admin", input=PASSWORD + "\n")
    print_jobs(inst, srv, tmp_path, "Hall")
    printed = [j["id"] for j in inst.cli_json("jobs", "list", "--state", "completed")]
    waiting = []
    for title in ("Cancel me", "Delete me"):
        path = tmp_path / f"{title}.pdf"
        path.write_bytes(pdf(pages=1, text=title))
        out = inst.cli("--json", "jobs", "submit", "--user", "ann@example.com", str(path),
                       "--title", title).stdout
        waiting.append(int(json.loads(out)["id"]))
    for job_id in waiting:
        assert wait_state(inst, job_id, {"held", "failed"}, srv)["state"] == "held"
    params = {"admin": "admin", "password": PASSWORD, "newUser": "neo@example.com",
              "cancelJob": waiting[0], "deleteJob": waiting[1], "reprintJob": printed[0],
              "reprintPrinter": "Hall", "sparePrinter": "Spare", "spareLocation": "Basement"}

    got = browser.run_scenario("admin-actions", srv, params)

    # Users: neo was added, disabled, sent a code and deleted.
    assert got["disabledBadge"].strip() == "disabled"
    assert "neo@example.com" not in {u["email"] for u in inst.cli_json("users", "list")}
    api, _ = api_session(srv, "admin", PASSWORD)
    audit = api.get(srv.url + "/api/v1/admin/audit", params={"limit": 500}, verify=srv.ca,
                    timeout=30).json()["items"]
    acted = {(e["action"], e["object"]) for e in audit}
    for action in ("user.add", "user.disable", "user.delete"):
        assert (action, "neo@example.com") in acted, (action, sorted(acted))
    assert any(a in ("code.issue", "user.new_code") for a, o in acted), sorted(acted)

    # Jobs: canceled, deleted, and the printed one printed again as a new job.
    assert inst.cli_json("jobs", "show", str(waiting[0]))[0]["state"] == "canceled"
    assert inst.cli("jobs", "show", str(waiting[1]), check=False).returncode == 3
    assert f"Job {printed[0]} is sent to Hall" in got["reprintNote"]
    reprints = [j for j in inst.cli_json("jobs", "list") if j["source"] == "reprint"]
    assert len(reprints) == 1
    assert wait_state(inst, reprints[0]["id"], {"completed", "failed"}, srv)["state"] == \
        "completed"
    assert inst.cli_json("jobs", "show", str(printed[0]))[0]["state"] == "completed"
    assert len(hall.wait_jobs(3)) == 3

    # Printers: Spare was edited, disabled, then removed.
    assert "disabled" in got["spareBadge"]
    assert "Spare" not in {p["name"] for p in inst.cli_json("printers", "list")}
    # (the console disables through PATCH: a second printer.update, or printer.disable)
    printer_actions = [e["action"] for e in audit if e["action"].startswith("printer.")]
    assert printer_actions.count("printer.update") + printer_actions.count("printer.disable") \
        >= 2, printer_actions
    assert "printer.remove" in printer_actions, printer_actions
