"""The REST API end to end: the real pullprintd over HTTPS with its conversion workers, driven
the way the portal, the panel and scripts drive it (python3-requests).

What a user or admin would check: a new user enrols with the company code, signs in, uploads
a PDF (multipart) and a photo (raw body), sees them converted with page counts and JPEG
thumbnails and previews, changes options, releases one to a printer and prints another at
once, deletes one; another user sees none of it (404); an expired token is refused; an
upload over the size limit is refused cleanly (413 with a JSON error); wrong codes are
throttled (429 with Retry-After); and the OpenAPI document is 3.1 and describes exactly the
routes the server answers.
"""

import json
import os
import sqlite3
import subprocess
import time

import pytest

import sample_docs
from conftest import Installation, code_of, free_port

MAX_DOC = 1024 * 1024  # [spool] max_document_bytes for these tests
SETTLED = {"held", "releasing", "printing", "completed", "failed", "rejected"}
BEYOND_HELD = {"releasing", "printing", "completed", "failed"}


def jpeg(path):
    """A 600x400 photo-like JPEG made with ImageMagick."""
    subprocess.run(["convert", "-size", "600x400", "gradient:orange-navy", "-quality", "85",
                    str(path)], check=True, capture_output=True, timeout=60)
    with open(path, "rb") as f:
        return f.read()


class Api:
    """A client of one server: the base URL, the CA, and an optional token."""

    def __init__(self, srv, token=None):
        import requests
        self.srv = srv
        self.session = requests.Session()
        self.token = token

    def __call__(self, method, path, token=None, **kw):
        headers = dict(kw.pop("headers", {}))
        tok = token if token is not None else self.token
        if tok:
            headers["Authorization"] = f"Bearer {tok}"
        # verify per request: a session's own is overridden by REQUESTS_CA_BUNDLE.
        return self.session.request(method, self.srv.url + "/api/v1" + path, headers=headers,
                                    verify=self.srv.ca, timeout=30, **kw)

    def login(self, **body):
        r = self("POST", "/login", json=body, token="")
        assert r.status_code == 200, r.text
        return r.json()["token"]

    def wait_job(self, job_id, states, timeout=120):
        deadline = time.time() + timeout
        while True:
            r = self("GET", f"/jobs/{job_id}")
            assert r.status_code == 200, r.text
            job = r.json()
            if job["state"] in states:
                return job
            assert time.time() < deadline, f"job stuck in {job['state']}: {job}"
            time.sleep(0.3)

    def image(self, url, timeout=60):
        """GETs a page image, following 202 + Retry-After until it is there."""
        deadline = time.time() + timeout
        while True:
            r = self("GET", url.removeprefix("/api/v1"))
            if r.status_code != 202:
                return r
            assert "Retry-After" in r.headers
            assert time.time() < deadline, "the page image never came"
            time.sleep(min(float(r.headers["Retry-After"]), 1.0))


def assert_error(r, status, code):
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["Content-Type"].startswith("application/json")
    err = r.json()["error"]
    assert err["code"] == code, err
    assert err["status"] == status and err["message"]


@pytest.fixture
def api_server(tmp_path, server_factory):
    inst = Installation(str(tmp_path), convert=True, workers=2)
    inst.write_config(extra=f"[spool]\nmax_document_bytes = {MAX_DOC}\n")
    inst.cli("settings", "set", "users.unknown_sender_policy", "accept")
    srv = server_factory(inst)
    return inst, srv


def test_api_flow(api_server, tmp_path):
    inst, srv = api_server
    api = Api(srv)

    # Enrol with the company code: a code is mailed (queued in the outbox).
    company = inst.cli("company-code").stdout.split()[-1]
    r = api("POST", "/enrol", json={"company_code": company.lower(), "email": "Carol@Example.com"})
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "code_sent"
    assert_error(api("POST", "/enrol", json={"company_code": "WRONG1", "email": "x@example.com"}),
                 403, "invalid_company_code")
    # The test reads no mail: a new code from the admin's command line signs Carol in.
    code = code_of(inst.cli("users", "code", "carol@example.com").stdout)
    api.token = api.login(email="carol@example.com", code=code, stay_signed_in=True)
    assert api("GET", "/me").json()["user"]["email"] == "carol@example.com"

    # Upload a PDF (multipart, with options) and a photo (raw body).
    pdf = sample_docs.pdf(pages=2)
    r = api("POST", "/jobs", files={"file": ("two pages.pdf", pdf, "application/pdf")},
            data={"options": '{"copies": 2}'})
    assert r.status_code == 201, r.text
    pdf_job = r.json()
    assert r.headers["Location"] == f"/api/v1/jobs/{pdf_job['id']}"
    photo = jpeg(tmp_path / "photo.jpg")
    r = api("POST", "/jobs", data=photo,
            headers={"Content-Type": "image/jpeg", "X-Filename": "holiday%20photo.jpg"})
    assert r.status_code == 201, r.text
    photo_job = r.json()
    assert photo_job["title"] == "holiday photo.jpg"

    # Both convert; the list shows them with pages and thumbnails.
    held = api.wait_job(pdf_job["id"], SETTLED)
    assert held["state"] == "held", held
    assert held["pages"] == 2
    assert api.wait_job(photo_job["id"], SETTLED)["state"] == "held"
    r = api("GET", "/jobs", params={"limit": 1})
    page1 = r.json()
    assert len(page1["jobs"]) == 1 and page1["next_cursor"]
    page2 = api("GET", "/jobs", params={"limit": 1, "cursor": page1["next_cursor"]}).json()
    listed = {j["id"]: j for j in page1["jobs"] + page2["jobs"]}
    assert set(listed) == {pdf_job["id"], photo_job["id"]}
    assert listed[pdf_job["id"]]["thumbnail_url"].endswith("/pages/1/thumbnail")

    # Detail: options, documents, pages with image URLs; the images are JPEGs.
    detail = api("GET", f"/jobs/{pdf_job['id']}").json()
    assert detail["options"]["copies"] == 2
    assert {d["role"] for d in detail["documents"]} >= {"original", "pdf"}
    assert [p["number"] for p in detail["pages_detail"]] == [1, 2]
    thumb = api.image(detail["pages_detail"][0]["thumbnail_url"])
    assert thumb.status_code == 200 and thumb.headers["Content-Type"] == "image/jpeg"
    assert thumb.content[:2] == b"\xff\xd8"
    preview = api.image(detail["pages_detail"][1]["preview_url"])
    assert preview.status_code == 200 and preview.content[:2] == b"\xff\xd8"
    assert len(preview.content) > len(thumb.content)
    assert_error(api("GET", f"/jobs/{pdf_job['id']}/pages/3/thumbnail"), 404, "not_found")

    # Options change while held.
    r = api("PATCH", f"/jobs/{pdf_job['id']}", json={"options": {"sides": "two-sided-long-edge"}})
    assert r.status_code == 200, r.text
    assert_error(api("PATCH", f"/jobs/{pdf_job['id']}", json={"options": {"copies": 0}}), 400,
                 "bad_options")

    # A printer (delivery itself is not what this test checks).
    inst.cli("printers", "add", "Lab-2", "--uri", f"ipp://127.0.0.1:{free_port()}/ipp/print",
             "--location", "Second floor lab")
    printers = api("GET", "/printers", params={"q": "second floor"}).json()["printers"]
    assert [p["name"] for p in printers] == ["Lab-2"]
    assert "capabilities" in printers[0] and "status" in printers[0]
    assert api("GET", "/printers", params={"q": "basement"}).json()["printers"] == []

    # Release the PDF with options; print the photo at once.
    r = api("POST", f"/jobs/{pdf_job['id']}/release",
            json={"printer": "lab-2", "options": {"copies": 1}})
    assert r.status_code == 200, r.text
    assert r.json()["job"]["state"] in BEYOND_HELD
    assert "warning" in r.json()
    assert_error(api("POST", f"/jobs/{pdf_job['id']}/release", json={"printer": "lab-2"}), 409,
                 "not_releasable")
    assert_error(api("POST", f"/jobs/{photo_job['id']}/release", json={"printer": "nowhere"}),
                 404, "printer_not_found")
    r = api("POST", "/print-now", files={"file": ("now.jpg", photo, "image/jpeg")},
            data={"printer": "Lab-2"})
    assert r.status_code == 201, r.text
    assert r.json()["print_now"] is True
    assert api.wait_job(r.json()["id"], BEYOND_HELD)["printer_id"] == printers[0]["id"]

    # Delete.
    assert api("DELETE", f"/jobs/{photo_job['id']}").status_code == 204
    assert_error(api("GET", f"/jobs/{photo_job['id']}"), 404, "not_found")

    # Another user sees none of Carol's jobs.
    dave_code = code_of(inst.cli("users", "add", "dave@example.com").stdout)
    dave = Api(srv, Api(srv).login(email="dave@example.com", code=dave_code))
    assert dave("GET", "/jobs").json()["jobs"] == []
    for method, path in [("GET", ""), ("DELETE", ""), ("GET", "/pages/1/thumbnail")]:
        assert_error(dave(method, f"/jobs/{pdf_job['id']}{path}"), 404, "not_found")
    assert_error(dave("PATCH", f"/jobs/{pdf_job['id']}", json={"options": {"copies": 5}}), 404,
                 "not_found")

    # Over the size limit: a clean 413 with a JSON error, raw and multipart.
    big = pdf + b"%" * (MAX_DOC + 1000)
    assert_error(api("POST", "/jobs", data=big, headers={"Content-Type": "application/pdf"}),
                 413, "too_large")
    assert_error(api("POST", "/jobs", files={"file": ("big.pdf", big, "application/pdf")}), 413,
                 "too_large")
    assert len(api("GET", "/jobs").json()["jobs"]) == 2  # nothing new was stored

    # An expired token is refused (moved into the past in the database).
    fresh = Api(srv).login(email="carol@example.com", code=code)
    db = sqlite3.connect(os.path.join(inst.state_dir, "pullprint.db"))
    with db:
        db.execute("UPDATE tokens SET expires_at = 1 WHERE kind = 'app'")
    db.close()
    r = api("GET", "/jobs", token=fresh)
    assert_error(r, 401, "invalid_token")
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert_error(api("GET", "/jobs", token=""), 401, "unauthorized")


def test_wrong_codes_throttled(api_server):
    inst, srv = api_server
    code = code_of(inst.cli("users", "add", "erin@example.com").stdout)
    wrong = "000000" if code != "000000" else "111111"
    api = Api(srv)
    statuses = []
    for _ in range(8):
        r = api("POST", "/login", json={"email": "erin@example.com", "code": wrong}, token="")
        statuses.append(r.status_code)
        if r.status_code == 429:
            assert int(r.headers["Retry-After"]) >= 1
            assert r.json()["error"]["code"] == "throttled"
            break
        assert_error(r, 401, "invalid_credentials")
    assert statuses[:2] == [401, 401] and statuses[-1] == 429, statuses
    # Locked: even the right code waits.
    r = api("POST", "/login", json={"email": "erin@example.com", "code": code}, token="")
    assert r.status_code == 429


def test_openapi_matches_routes(api_server):
    inst, srv = api_server
    api = Api(srv)
    r = api("GET", "/openapi.json", token="")
    assert r.status_code == 200
    doc = r.json()
    assert doc["openapi"] == "3.1.0"
    assert doc["info"]["title"] and doc["info"]["version"]
    methods = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
    documented = set()
    for path, item in doc["paths"].items():
        assert path.startswith("/api/v1/")
        for method, op in item.items():
            if method not in methods:
                continue
            assert op.get("responses"), f"{method} {path} has no responses"
            for status in op["responses"]:
                assert status == "default" or status.isdigit(), (method, path, status)
            documented.add((method.upper(), path))
    # Every $ref points somewhere.
    text = json.dumps(doc)
    for ref in set(part.split('"')[0] for part in text.split('"$ref": "')[1:]):
        node = doc
        for key in ref.removeprefix("#/").split("/"):
            node = node[key]

    # Each documented operation is routed (not "no such operation", not 405) ...
    def concrete(path):
        return (path.replace("{id}", "0" * 32).replace("{n}", "1")
                .removeprefix("/api/v1"))
    for method, path in sorted(documented):
        if path.endswith("/events"):
            continue  # a stream: checked below without reading it whole
        r = api(method, concrete(path), token="ppa_" + "0" * 64)
        assert r.status_code != 405, (method, path)
        if r.status_code == 404:
            assert r.json()["error"]["message"] != \
                "There is no such API operation; see /api/v1/openapi.json.", (method, path)
    r = api("GET", "/events", token="ppa_" + "0" * 64)
    assert_error(r, 401, "invalid_token")
    # ... and each undocumented method on a documented path is not.
    for path in doc["paths"]:
        for method in ("GET", "POST", "PATCH", "DELETE", "PUT"):
            if (method, path) in documented:
                continue
            assert_error(api(method, concrete(path), token=""), 405, "method_not_allowed")
    assert_error(api("GET", "/no-such-thing", token=""), 404, "not_found")


def test_events_stream(api_server):
    """The job a user uploads shows up on their event stream, converted; nobody else's."""
    import threading
    inst, srv = api_server
    code = code_of(inst.cli("users", "add", "fay@example.com").stdout)
    api = Api(srv)
    api.token = api.login(email="fay@example.com", code=code)
    events = []
    r = api("GET", "/events", params={"access_token": api.token}, token="", stream=True)
    assert r.status_code == 200 and r.headers["Content-Type"] == "text/event-stream"

    def read():
        name = None
        try:
            for line in r.iter_lines(chunk_size=1, decode_unicode=True):
                if line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: "):
                    events.append((name, json.loads(line[6:])))
        except Exception:  # the test closed the stream
            pass
    threading.Thread(target=read, daemon=True).start()
    time.sleep(1.5)
    job = api("POST", "/jobs", data=sample_docs.pdf(),
              headers={"Content-Type": "application/pdf"}).json()
    deadline = time.time() + 60
    while not any(n == "job" and e["id"] == job["id"] and e["state"] == "held"
                  for n, e in events):
        assert time.time() < deadline, events
        time.sleep(0.2)
    assert api("DELETE", f"/jobs/{job['id']}").status_code == 204
    while not any(n == "job_deleted" and e["id"] == job["id"] for n, e in events):
        assert time.time() < deadline, events
        time.sleep(0.2)
    # The stream stays open: the reader thread ends when the fixture stops the server.
