"""The printer panel (web/panel) in headless Chromium against the real server, with conversion
on and a real IPP Everywhere printer (ippeveprinter) behind the panel's printer.

What a user at the printer would check: the panel names its printer; a wrong code is refused
with a message; the code on the keypad signs in and shows the user's held jobs (nobody
else's) with thumbnails; two of four, with two copies, print on this printer under the
user's name; one is deleted; signing out, the back button and leaving the page leave nothing of the user;
at 1024x600 email + code signs in with the code hidden, and the panel signs out by itself
after panel.idle_timeout_s with a countdown. Screenshots: BUILD/screenshots/panel*/.
"""

import json
import time
import urllib.parse

import pytest

import browser
import sample_docs
from conftest import Installation, code_of
from printers_fixture import printer_farm  # noqa: F401 (a fixture)

PDF_CAPS = {"formats": ["application/pdf", "image/pwg-raster"], "is_color": True,
            "has_duplex": True}
PRINTER = "Lobby-MFP"
LOCATION = "Ground floor, next to the lifts"
ANN = "ann@example.com"
ANN_JOBS = ["Quarterly budget", "Team minutes", "Poster draft", "Old notes"]
TO_PRINT = ["Quarterly budget", "Team minutes"]
BOB_JOBS = ["Bob private letter"]
IDLE_S = 15  # the smallest panel.idle_timeout_s


def api_login(srv, email, code):
    r = srv.request("POST", "/api/v1/login", json={"email": email, "code": code})
    assert r.status_code == 200, r.text
    return {"Authorization": "Bearer " + r.json()["token"]}


def upload(srv, auth, title, pages):
    r = srv.request("POST", "/api/v1/jobs", data=sample_docs.pdf(pages=pages, text=title),
                    headers={**auth, "Content-Type": "application/pdf",
                             "X-Filename": title.replace(" ", "%20")})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def jobs_of(srv, auth):
    r = srv.request("GET", "/api/v1/jobs", params={"limit": 100}, headers=auth)
    assert r.status_code == 200, r.text
    return {j["title"]: j for j in r.json()["jobs"]}


def wait_held(srv, auth, titles, timeout=120):
    deadline = time.time() + timeout
    while True:
        jobs = jobs_of(srv, auth)
        if all(jobs.get(t, {}).get("state") == "held" for t in titles):
            return jobs
        assert time.time() < deadline, {t: j["state"] for t, j in jobs.items()}
        time.sleep(0.3)


@pytest.fixture
def panel_site(tmp_path, server_factory, printer_farm):  # noqa: F811 (the fixture)
    inst = Installation(str(tmp_path / "inst"), convert=True, workers=2)
    eve = printer_farm.eve("lobby", "application/pdf,image/pwg-raster")
    inst.cli("printers", "add", PRINTER, "--uri", eve.uri, "--location", LOCATION, "--caps",
             json.dumps(PDF_CAPS))
    panel = inst.cli_json("printers", "panel-token", PRINTER)
    ann_code = code_of(inst.cli("users", "add", ANN, "--name", "Ann Example").stdout)
    bob_code = code_of(inst.cli("users", "add", "bob@example.com").stdout)
    srv = server_factory(inst)
    ann = api_login(srv, ANN, ann_code)
    bob = api_login(srv, "bob@example.com", bob_code)
    for i, title in enumerate(ANN_JOBS):
        upload(srv, ann, title, pages=min(i + 1, 3))
    for title in BOB_JOBS:
        upload(srv, bob, title, pages=1)
    wait_held(srv, ann, ANN_JOBS)
    wait_held(srv, bob, BOB_JOBS)
    # The address the admin installs, as `pullprint printers panel-token` printed it.
    url = urllib.parse.urlsplit(panel["url"])
    assert url.path == "/panel/" and panel["token"] in url.query
    return inst, srv, eve, panel["token"], f"{url.path}?{url.query}", ann, ann_code, bob


def test_panel_release_sign_out_and_idle(panel_site):
    inst, srv, eve, token, panel_path, ann, ann_code, bob = panel_site
    wrong = "000000" if ann_code != "000000" else "111111"
    result = browser.run_scenario("panel", srv, {
        "panelPath": panel_path, "printer": PRINTER, "location": LOCATION,
        "code": ann_code, "wrongCode": wrong, "email": ANN, "titles": ANN_JOBS,
        "print": TO_PRINT, "delete": "Old notes", "preview": "Team minutes",
        "others": BOB_JOBS,
    })
    assert sorted(result["printed"]) == sorted(TO_PRINT)
    assert result["remaining"] == ["Poster draft"]

    # The printer behind the panel got both, as Ann's, with the two copies she chose.
    received = eve.wait_jobs(2)
    names = []
    for printer_job, _path in received:
        got = eve.job(printer_job)
        assert got["job-originating-user-name"] == [ANN], got
        assert got["copies"] == [2], got
        names += got["job-name"]
    assert sorted(names) == sorted(TO_PRINT)
    jobs = jobs_of(srv, ann)
    assert jobs["Poster draft"]["state"] == "held"
    assert "Old notes" not in jobs  # deleted at the panel
    assert all(jobs[t]["printer_id"] is not None for t in TO_PRINT)
    assert jobs_of(srv, bob)[BOB_JOBS[0]]["state"] == "held"
    time.sleep(0.5)
    assert len(eve.kept_files()) == 2  # nothing else came out

    # 1024x600: email + code with the code hidden, then the idle sign-out.
    inst.cli("settings", "set", "panel.idle_timeout_s", str(IDLE_S))
    inst.cli("settings", "set", "panel.hide_code", "yes")
    panel = srv.request("GET", "/api/v1/panel", headers={"X-Panel-Token": token}).json()
    assert panel["idle_timeout_s"] == IDLE_S and panel["signin"]["hide_code"] is True
    result = browser.run_scenario("panel-idle", srv, {
        "panelPath": f"/panel/?t={token}", "email": ANN, "code": ann_code,
        "titles": ["Poster draft"], "idleTimeout": IDLE_S,
    })
    assert IDLE_S - 2 <= result["signedOutAfterS"] <= IDLE_S + 8, result
