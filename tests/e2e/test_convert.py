"""The converter end to end: `pullprint-convert file` and `render` on a corpus of real
documents (convert_corpus.py), and pullprintd's pool of workers turning submitted jobs into
held ones — with a worker killed mid-way, hostile documents, and (PostgreSQL) a worker on
another host taking jobs from the shared queue.

What a user or admin would check: the kept PDF has the right pages and the words that were
written, colour pages are counted right, thumbnails (≈200 px) and previews (≈1000 px) decode
at the page's shape, printer formats are what they claim, a broken or hostile document fails
its own job with a reason a person understands, within its limit, and the next job converts.
"""

import json
import os
import re
import signal
import sqlite3
import struct
import subprocess
import time

import pytest

import convert_corpus as cc
from conftest import PULLPRINT_CONVERT, Installation, make_pg_database

NORMAL = ["colour-ps.ps", "colour.pdf", "ten-pages.pdf", "photo.jpg", "grey.jpg",
          "picture.png", "picture-gif.gif", "picture-bmp.bmp", "picture-webp.webp", "scan.tiff",
          "photo-heic.heic",
          "latin1.txt", "utf16.txt", "plain.txt", "mail.html", "writer.docx", "writer-odt.odt",
          "writer-rtf.rtf", "writer-doc.doc", "sheet-xlsx.xlsx", "sheet-xls.xls",
          "slides-pptx.pptx", "slides-ppt.ppt"]
PASSWD = ["passwd-html.html", "passwd-odt.odt", "passwd-docx.docx"]
THUMBNAILS = 2  # pages rendered by `file` in these tests

# What a failure reason should speak of, per hostile document (case-insensitive). A reason
# that only says the converter failed (GENERIC: what a job gets when its worker died) is not
# clear enough for these: each has a limit that should have named it.
HOSTILE_REASONS = {
    "bomb.docx": r"too (large|big)|memory|compress|expand|\blimit|took longer|\d+ s\b|"
                 r"damaged",
    "huge.png": r"pixel|too (large|big)|megapixel",
    "pages100k.pdf": r"\bpages\b",
    "loop.ps": r"took longer|too long|time limit|\d+ s\b|\bseconds?\b|\bcpu\b",
    "fake.pdf": r"\bpdf\b.*(damaged|broken|corrupt|cannot be read|not)",
}
GENERIC = r"converter failed"
HOSTILE_LIMIT_S = 10  # [convert] timeout_s and cpu_s in the server tests


def converter():
    if not os.path.exists(PULLPRINT_CONVERT):
        pytest.fail(f"{PULLPRINT_CONVERT} is not built: ninja -C <build> "
                    "src/cmd/pullprint-convert")
    return PULLPRINT_CONVERT


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    """Built once per session: soffice makes it slow (about 15 s)."""
    return cc.build(str(tmp_path_factory.mktemp("corpus")))


def run_file(paths, out_dir, *, config=None, thumbnails=THUMBNAILS, timeout=900):
    """`pullprint-convert file --json` on paths; returns ({path: record}, CompletedProcess)."""
    args = [converter()]
    if config:
        args += ["--config", config]
    args += ["file", "--out-dir", out_dir, "--thumbnails", str(thumbnails), "--json", *paths]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    records = {}
    for line in proc.stdout.splitlines():
        if line.startswith("{"):
            rec = json.loads(line)
            records[rec["file"]] = rec
    return records, proc


@pytest.fixture(scope="module")
def converted(corpus, tmp_path_factory):
    """Every normal corpus document through one `file` run (one warm LibreOffice)."""
    out = str(tmp_path_factory.mktemp("converted"))
    paths = [corpus[name].path for name in NORMAL]
    records, proc = run_file(paths, out)
    return out, records, proc


def page_size(pdf, page):
    out = cc.run(["pdfinfo", "-f", str(page), "-l", str(page), pdf]).stdout
    m = re.search(r"Page\s+%d size:\s+([\d.]+) x ([\d.]+)" % page, out)
    assert m, out
    return float(m.group(1)), float(m.group(2))


def type_fits(kind, mime):
    return {
        "pdf": mime == "application/pdf",
        "postscript": mime == "application/postscript",
        "image": mime.startswith("image/"),
        "text": mime.startswith("text/plain"),
        "html": mime.startswith("text/html"),
        "office": mime not in ("application/octet-stream", "text/plain") and
        not mime.startswith("image/"),
    }[kind]


# --- 1. `file` on every corpus document ---------------------------------------------------

@pytest.mark.parametrize("name", NORMAL)
def test_file_converts_corpus_document(corpus, converted, name):
    out, records, proc = converted
    doc = corpus[name]
    rec = records.get(doc.path)
    assert rec is not None, (f"no JSON line for {doc.path}; exit {proc.returncode}; "
                             f"stderr: {proc.stderr[-2000:]}")
    assert rec["ok"], f"{name}: {rec.get('error')}"
    assert rec.get("error") in (None, "")
    assert type_fits(doc.kind, rec["type"] or ""), f"{name} typed as {rec['type']}"
    pdf = os.path.join(out, doc.stem + ".pdf")
    assert os.path.exists(pdf), os.listdir(out)

    assert rec["pages"] == doc.pages
    assert cc.pdf_pages(pdf) == doc.pages
    assert rec["color_pages"] == doc.color_pages, f"{name}: colour pages"
    assert rec["ms_convert"] >= 0 and rec["ms_pages"] >= 0

    text = cc.pdf_text(pdf)
    for word in doc.words:
        assert word in text, f"{name}: {word!r} not in the PDF's text: {text[:500]!r}"

    for page in range(1, min(THUMBNAILS, doc.pages) + 1):
        width_pt, height_pt = page_size(pdf, page)
        for role, want in (("thumb", 200), ("preview", 1000)):
            image = os.path.join(out, f"{doc.stem}-{role}-{page}.jpg")
            assert os.path.exists(image), f"{name}: no {role} of page {page}"
            w, h = cc.jpeg_size(image)
            assert abs(w - want) <= 2, f"{name} {role} {page}: {w} px wide"
            assert abs(h - w * height_pt / width_pt) <= max(3, 0.02 * h), \
                f"{name} {role} {page}: {w}x{h} for a {width_pt}x{height_pt} pt page"
    assert not os.path.exists(os.path.join(out, f"{doc.stem}-thumb-{THUMBNAILS + 1}.jpg"))


def test_file_exit_status_says_all_converted(converted):
    _, records, proc = converted
    failed = [r["file"] for r in records.values() if not r["ok"]]
    assert (proc.returncode == 0) == (not failed and len(records) == len(NORMAL)), \
        (proc.returncode, failed)


def test_file_never_reads_linked_local_files(corpus, tmp_path):
    """A document that links /etc/passwd (pictures, a linked section, INCLUDETEXT, external
    relationships) converts without it, or fails; its text never reaches the PDF."""
    paths = [corpus[n].path for n in PASSWD]
    records, proc = run_file(paths, str(tmp_path), thumbnails=1, timeout=300)
    secrets = cc.passwd_lines()
    assert secrets
    for name in PASSWD:
        doc = corpus[name]
        rec = records.get(doc.path)
        assert rec is not None, proc.stderr[-2000:]
        if not rec["ok"]:
            assert rec["error"], name
            continue
        text = cc.pdf_text(os.path.join(str(tmp_path), doc.stem + ".pdf"))
        for word in doc.words:
            assert word in text, f"{name}: its own text is missing: {text[:300]!r}"
        leaked = [line for line in secrets if line in text]
        assert not leaked, f"{name}: /etc/passwd in the PDF: {leaked[:2]}"
        assert "root:x:0:0" not in text and "/bin/bash" not in text, name


def limits_config(tmp_path, **settings):
    """A configuration for `file`/`--queue` runs with tight [convert] limits."""
    conf = tmp_path / "limits.conf"
    lines = ["[server]", f"state_dir = {tmp_path}/state", "[convert]",
             f"tmp_dir = {tmp_path}/convert-tmp"]
    lines += [f"{k} = {v}" for k, v in settings.items()]
    conf.write_text("\n".join(lines) + "\n")
    return str(conf)


@pytest.mark.parametrize("name", ["fake.pdf", "huge.png", "pages100k.pdf"])
def test_file_refuses_hostile_document_quickly(corpus, tmp_path, name):
    conf = limits_config(tmp_path, timeout_s=HOSTILE_LIMIT_S, cpu_s=HOSTILE_LIMIT_S,
                         max_pages=1000)
    t0 = time.monotonic()
    records, proc = run_file([corpus[name].path], str(tmp_path / "out"), config=conf,
                             timeout=120)
    took = time.monotonic() - t0
    rec = records.get(corpus[name].path)
    assert rec is not None, proc.stderr[-2000:]
    assert not rec["ok"] and proc.returncode != 0
    assert re.search(HOSTILE_REASONS[name], rec["error"], re.I), rec["error"]
    assert not re.search(GENERIC, rec["error"], re.I), rec["error"]
    assert took < HOSTILE_LIMIT_S + 10, f"{name} took {took:.1f} s"
    assert not os.path.exists(tmp_path / "out" / (corpus[name].stem + ".pdf"))


# --- 2. `render`: printer formats ----------------------------------------------------------

def render(src, out, fmt, options=None, *extra):
    args = [converter(), "render", "--format", fmt]
    if options is not None:
        args += ["--options", json.dumps(options)]
    args += list(extra) + [src, out]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"render {fmt} {options} {extra}: {proc.stderr[-2000:]}"
    with open(out, "rb") as f:
        return f.read()


PWG_HEADER = 1796


def pwg_pages(data):
    """Decodes a PWG raster stream; returns one dict of header fields per page."""
    assert data[:4] == b"RaS2", data[:16]
    pos, pages = 4, []
    while pos < len(data):
        h = data[pos:pos + PWG_HEADER]
        assert len(h) == PWG_HEADER, "truncated page header"
        u32 = lambda off: struct.unpack(">I", h[off:off + 4])[0]  # noqa: E731
        page = {"class": h[0:64].split(b"\0")[0], "duplex": u32(272),
                "hw_resolution": (u32(276), u32(280)), "copies": u32(340),
                "page_size": (u32(352), u32(356)), "tumble": u32(368), "width": u32(372),
                "height": u32(376), "bits_per_color": u32(384), "bits_per_pixel": u32(388),
                "bytes_per_line": u32(392), "color_order": u32(396),
                "color_space": u32(400), "num_colors": u32(420)}
        pos += PWG_HEADER
        unit = max(1, page["bits_per_pixel"] // 8)
        y = 0
        while y < page["height"]:
            repeat = data[pos]
            pos += 1
            x = 0
            while x < page["bytes_per_line"]:
                n = data[pos]
                pos += 1
                if n <= 127:
                    pos += unit
                    x += (n + 1) * unit
                else:
                    pos += (257 - n) * unit
                    x += (257 - n) * unit
            assert x == page["bytes_per_line"], "a line overran its width"
            y += repeat + 1
        assert pos <= len(data), "page data truncated"
        pages.append(page)
    return pages


PWG_SGRAY, PWG_SRGB = 18, 19


@pytest.mark.parametrize("options, extra, pages", [
    ({}, [], 4),
    ({"copies": 2}, [], 8),
    ({"page_ranges": "2-3"}, [], 2),
    ({"number_up": 2}, [], 2),
    ({"number_up": 4, "copies": 3}, [], 3),
])
def test_render_pdf_pages(corpus, tmp_path, options, extra, pages):
    out = str(tmp_path / "out.pdf")
    data = render(corpus["colour.pdf"].path, out, "pdf", options, *extra)
    assert data.startswith(b"%PDF-")
    assert cc.pdf_pages(out) == pages


def test_render_pdf_duplex_copies_start_on_a_new_sheet(corpus, tmp_path):
    """Pages 1-3, two copies, two-sided: a blank back after page 3, so the second copy's
    page 1 is the front of a sheet (PDF page 5); a blank after the last copy is optional."""
    out = str(tmp_path / "out.pdf")
    render(corpus["colour.pdf"].path, out, "pdf",
           {"page_ranges": "1-3", "copies": 2, "sides": "two-sided-long-edge"})
    assert cc.pdf_pages(out) in (7, 8)

    def page(n):
        return cc.run(["pdftotext", "-f", str(n), "-l", str(n), out, "-"]).stdout

    assert "indiawhiskey" in page(1) and "indiawhiskey" in page(5)
    assert page(4).strip() == ""


def test_render_pdf_substitutes_letter_for_a4(corpus, tmp_path):
    out = str(tmp_path / "letter.pdf")
    render(corpus["colour.pdf"].path, out, "pdf", {"media": "iso_a4_210x297mm"},
           "--printer-media", "na_letter_8.5x11in", "--fit")
    assert cc.pdf_pages(out) == 4
    w, h = page_size(out, 1)
    assert (round(w), round(h)) == (612, 792)


@pytest.mark.parametrize("extra, options, color_space, bpp, size, duplex", [
    ([], {}, PWG_SRGB, 24, (595, 842), 0),
    (["--mono-printer"], {}, PWG_SGRAY, 8, (595, 842), 0),
    ([], {"color_mode": "monochrome"}, PWG_SGRAY, 8, (595, 842), 0),
    (["--printer-media", "na_letter_8.5x11in"], {}, PWG_SRGB, 24, (612, 792), 0),
    ([], {"sides": "two-sided-long-edge"}, PWG_SRGB, 24, (595, 842), 1),
])
def test_render_pwg_raster(corpus, tmp_path, extra, options, color_space, bpp, size, duplex):
    dpi = 100
    data = render(corpus["colour.pdf"].path, str(tmp_path / "out.pwg"), "pwg", options,
                  "--dpi", str(dpi), *extra)
    pages = pwg_pages(data)
    assert len(pages) == 4
    for p in pages:
        assert p["class"] == b"PwgRaster"
        assert p["hw_resolution"] == (dpi, dpi)
        assert p["color_space"] == color_space and p["bits_per_pixel"] == bpp
        assert p["bits_per_color"] == 8
        assert p["page_size"] == size
        assert abs(p["width"] - size[0] * dpi / 72) <= 2
        assert abs(p["height"] - size[1] * dpi / 72) <= 2
        assert p["bytes_per_line"] == p["width"] * bpp // 8
        assert p["duplex"] == duplex


def test_render_urf(corpus, tmp_path):
    dpi = 150
    data = render(corpus["colour.pdf"].path, str(tmp_path / "out.urf"), "urf", {},
                  "--dpi", str(dpi))
    assert data[:8] == b"UNIRAST\0"
    assert struct.unpack(">I", data[8:12])[0] == 4
    bpp, colour_space = data[12], data[13]
    width, height, res = struct.unpack(">III", data[12 + 12:12 + 24])
    assert bpp == 24 and colour_space == 1  # sRGB
    assert res == dpi
    assert abs(width - 595 * dpi / 72) <= 2 and abs(height - 842 * dpi / 72) <= 2
    mono = render(corpus["colour.pdf"].path, str(tmp_path / "mono.urf"), "urf", {},
                  "--dpi", str(dpi), "--mono-printer")
    assert mono[:8] == b"UNIRAST\0" and mono[12] == 8


def test_render_postscript_dsc(corpus, tmp_path):
    data = render(corpus["colour.pdf"].path, str(tmp_path / "out.ps"), "ps", {})
    text = data.decode("latin-1")
    assert text.startswith("%!PS-Adobe-3.0"), text[:40]
    counts = re.findall(r"^%%Pages: (\d+)", text, re.M)
    assert counts and counts[-1] == "4", counts
    assert len(re.findall(r"^%%Page: ", text, re.M)) == 4
    ranged = render(corpus["colour.pdf"].path, str(tmp_path / "two.ps"), "ps",
                    {"page_ranges": "2-3"}).decode("latin-1")
    assert len(re.findall(r"^%%Page: ", ranged, re.M)) == 2


@pytest.mark.parametrize("fmt", ["pcl5", "pcl6"])
def test_render_pcl(corpus, tmp_path, fmt):
    data = render(corpus["colour.pdf"].path, str(tmp_path / f"out.{fmt}"), fmt, {},
                  "--dpi", "150")
    head = data[:512]
    assert head.startswith(b"\x1b%-12345X") or head.startswith(b"\x1bE"), head[:40]
    if fmt == "pcl5":
        assert b"\x1bE" in head
    else:
        assert b") HP-PCL XL" in head, head[:120]
    assert len(data) > 1000


def test_render_refuses_a_range_past_the_end(corpus, tmp_path):
    proc = subprocess.run([converter(), "render", "--format", "pdf", "--options",
                           json.dumps({"page_ranges": "9-12"}), corpus["colour.pdf"].path,
                           str(tmp_path / "out.pdf")], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode != 0
    assert "page" in proc.stderr.lower(), proc.stderr


# --- 3. the server's pool ------------------------------------------------------------------

def db_rows(inst, sql):
    """Rows of a query on the installation's database, as tuples of text."""
    if inst.database:
        out = subprocess.run(["psql", inst.database, "-At", "-F", "\t", "-c", sql],
                             capture_output=True, text=True, timeout=60, check=True).stdout
        return [tuple(line.split("\t")) for line in out.splitlines() if line]
    db = sqlite3.connect(f"file:{inst.state_dir}/pullprint.db?mode=ro", uri=True, timeout=30)
    try:
        return [tuple("" if v is None else str(v) for v in row) for row in db.execute(sql)]
    finally:
        db.close()


# The type a client claims for a file (IPP document-format, a mail attachment's header).
CLAIMED = {".pdf": "application/pdf", ".ps": "application/postscript", ".jpg": "image/jpeg",
           ".png": "image/png", ".txt": "text/plain", ".html": "text/html",
           ".odt": "application/vnd.oasis.opendocument.text",
           ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}


def submit(inst, email, path, claim=False):
    """`pullprint jobs submit`; claim=True passes the type a client would claim for the
    file's extension (never trusted: the converter looks at the content), else none, as an
    admin submits a file (stored as application/octet-stream)."""
    args = ["--json", "jobs", "submit", "--user", email]
    if claim:
        args += ["--content-type", CLAIMED[os.path.splitext(str(path))[1]]]
    out = inst.cli(*args, str(path)).stdout
    return int(json.loads(out)["id"])


def jobs_by_id(inst):
    return {int(j["id"]): j for j in inst.cli_json("jobs", "--limit", "1000")}


FINAL = {"held", "failed", "canceled", "completed", "rejected", "expired"}


def wait_jobs(inst, ids, states=FINAL, timeout=240, server=None):
    """Waits until every job in ids is in one of states; returns {id: job}."""
    deadline = time.time() + timeout
    while True:
        jobs = jobs_by_id(inst)
        if all(i in jobs and jobs[i]["state"] in states for i in ids):
            return jobs
        if server is not None and server.proc.poll() is not None:
            raise AssertionError(f"pullprintd exited {server.proc.returncode}: "
                                 f"{server.stderr()[-3000:]}")
        if time.time() > deadline:
            raise AssertionError("jobs did not finish converting: " + json.dumps(
                {i: (jobs.get(i) or {}).get("state") for i in ids}) +
                (("\n" + server.stderr()[-3000:]) if server else ""))
        time.sleep(0.2)


def documents(inst, job_id):
    return {r[0]: r[1] for r in db_rows(
        inst, f"SELECT role, content_type FROM documents WHERE job_id = {job_id}")}


def job_row(inst, job_id):
    cols = ("state", "state_reason", "pages", "color_pages", "convert_attempts",
            "convert_worker", "convert_claimed_at", "updated_at")
    row = db_rows(inst, f"SELECT {', '.join(cols)} FROM jobs WHERE id = {job_id}")[0]
    return dict(zip(cols, row))


def children(pid):
    """Direct children of pid."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        if ppid == pid:
            found.append(int(entry))
    return found


def comm(pid):
    try:
        with open(f"/proc/{pid}/comm", encoding="utf-8") as f:
            return f.read().strip()
    except OSError:
        return ""


def worker_pids(server):
    return [p for p in children(server.proc.pid) if comm(p).startswith("pullprint-conv")]


def descendants(pid):
    out, todo = set(), [pid]
    while todo:
        for child in children(todo.pop()):
            if child not in out:
                out.add(child)
                todo.append(child)
    return out


def strays(roots, server):
    """Processes working in (cwd) or naming (command line) one of the installation's
    directories that are not the server or its descendants: orphans of a killed worker."""
    mine = {server.proc.pid} | descendants(server.proc.pid)
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) in mine or int(entry) == os.getpid():
            continue
        try:
            cwd = os.readlink(f"/proc/{entry}/cwd")
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        if any(cwd.startswith(r) or r in cmdline for r in roots) and "pytest" not in cmdline:
            found.append((int(entry), comm(int(entry)), cmdline[:200]))
    return found


def wait_workers(server, count, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        pids = worker_pids(server)
        if len(pids) >= count:
            return pids
        if server.proc.poll() is not None:
            raise AssertionError("pullprintd exited: " + server.stderr()[-3000:])
        time.sleep(0.1)
    raise AssertionError(f"pullprintd did not start {count} workers: " +
                         server.stderr()[-3000:])


def convert_installation(tmp_path, backend, request, **kw):
    database = None
    if backend == "postgresql":
        database = make_pg_database(request.getfixturevalue("pg_url"))
    converter()
    return Installation(str(tmp_path), database=database, convert=True, **kw)


SUBMITTED = [("colour.pdf", 4, 2), ("photo.jpg", 1, 1), ("writer.docx", 3, 1),
             ("plain.txt", 1, 0)]


def test_server_converts_submitted_jobs(tmp_path, backend, request, server_factory, corpus):
    inst = convert_installation(tmp_path, backend, request, workers=2)
    inst.cli("users", "add", "ada@example.com")
    srv = server_factory(inst)
    ids = {submit(inst, "ada@example.com", corpus[name].path): (name, pages, colour)
           for name, pages, colour in SUBMITTED}
    jobs = wait_jobs(inst, ids, server=srv)
    for job_id, (name, pages, colour) in ids.items():
        job = jobs[job_id]
        assert job["state"] == "held", f"{name}: {job['state']} ({job.get('reason')})"
        assert int(job["pages"]) == pages, name
        row = job_row(inst, job_id)
        assert int(row["color_pages"]) == colour, name
        assert row["convert_attempts"] == "1" and row["convert_worker"], row
        roles = documents(inst, job_id)
        assert roles.get("original") and roles.get("pdf") == "application/pdf", roles
        shown = min(pages, 4)  # [convert] thumbnails defaults to 4
        for n in range(1, shown + 1):
            assert roles.get(f"thumb:{n}") == "image/jpeg", (name, roles)
            assert roles.get(f"preview:{n}") == "image/jpeg", (name, roles)
        assert f"thumb:{shown + 1}" not in roles
    assert srv.get("/healthz").status_code == 200


SLOW_PS = """%!PS-Adobe-3.0
%%Pages: 1
%%EndComments
0 1 {loops} {{pop}} for
/Helvetica findfont 24 scalefont setfont 72 720 moveto (Slowpage oscarpapa) show showpage
%%EOF
"""


@pytest.mark.parametrize("max_attempts, end", [(2, "held"), (1, "failed")])
def test_worker_killed_while_converting(tmp_path, backend, request, server_factory, corpus,
                                        max_attempts, end):
    """kill -9 of the worker converting a slow document: the job is retried (and held) or,
    with its attempts used up, failed with a reason; the server stays up, a new worker
    starts, the next job converts and no sandboxed child is left behind."""
    inst = convert_installation(tmp_path / "inst", backend, request, workers=1,
                                convert_settings={"max_attempts": max_attempts})
    inst.cli("users", "add", "kim@example.com")
    slow = tmp_path / "slow.ps"
    slow.write_text(SLOW_PS.format(loops=150_000_000))  # gs: about 5 s on this machine
    srv = server_factory(inst)
    first = wait_workers(srv, 1)
    job_id = submit(inst, "kim@example.com", slow, claim=True)
    wait_jobs(inst, [job_id], states={"converting"}, timeout=60, server=srv)
    time.sleep(1.5)
    assert jobs_by_id(inst)[job_id]["state"] == "converting"
    victim = worker_pids(srv)
    assert victim, "no worker to kill"
    for pid in victim:
        os.kill(pid, signal.SIGKILL)

    job = wait_jobs(inst, [job_id], timeout=120, server=srv)[job_id]
    assert srv.proc.poll() is None, "pullprintd died with its worker"
    assert job["state"] == end, f"{job['state']}: {job['reason']}"
    row = job_row(inst, job_id)
    if end == "held":
        assert int(job["pages"]) == 1
        assert row["convert_attempts"] == "2", row
    else:
        assert job["reason"], "a failed job says why"
        assert row["convert_attempts"] == "1", row
    again = wait_workers(srv, 1)
    assert not set(again) & set(victim), "the killed worker was not replaced"

    nxt = submit(inst, "kim@example.com", corpus["colour.pdf"].path, claim=True)
    job = wait_jobs(inst, [nxt], timeout=120, server=srv)[nxt]
    assert job["state"] == "held", f"{job['state']}: {job['reason']}"
    assert int(job["pages"]) == 4
    assert srv.get("/healthz").status_code == 200
    time.sleep(1)
    left = strays((inst.root, inst.convert_tmp_dir), srv)
    assert not left, f"processes outlived the killed worker: {left}"
    assert first  # a worker was running before the job arrived


def test_hostile_documents_fail_alone(tmp_path, backend, request, server_factory, corpus):
    """Each hostile document fails its own job within its limit with a reason a person
    understands; a good document sent after each is held; the server stays healthy. A
    document linking /etc/passwd may convert (without it: test_file_never_reads_linked_…)."""
    limits = {"timeout_s": HOSTILE_LIMIT_S, "cpu_s": HOSTILE_LIMIT_S, "memory": "1G",
              "max_pages": 1000, "max_image_mpixels": 100, "max_attempts": 1}
    inst = convert_installation(tmp_path, backend, request, workers=2,
                                convert_settings=limits)
    inst.cli("users", "add", "eve@example.com")
    srv = server_factory(inst)
    hostile, good = {}, []
    for name in list(HOSTILE_REASONS) + PASSWD:
        hostile[submit(inst, "eve@example.com", corpus[name].path, claim=True)] = name
        good.append(submit(inst, "eve@example.com", corpus["photo.jpg"].path, claim=True))
    jobs = wait_jobs(inst, list(hostile) + good, timeout=400, server=srv)
    problems = []
    for job_id, name in hostile.items():
        job, row = jobs[job_id], job_row(inst, job_id)
        took = int(row["updated_at"] or 0) - int(row["convert_claimed_at"] or 0)
        if name in PASSWD:
            if job["state"] not in ("held", "failed"):
                problems.append(f"{name}: {job['state']}")
            continue
        if job["state"] != "failed":
            problems.append(f"{name}: {job['state']}, not failed")
            continue
        reason = job["reason"]
        if not re.search(HOSTILE_REASONS[name], reason, re.I) or re.search(GENERIC, reason,
                                                                           re.I):
            problems.append(f"{name}: unclear reason {reason!r}")
        if row["convert_claimed_at"] and took > HOSTILE_LIMIT_S + 8:
            problems.append(f"{name}: failed after {took} s, limit {HOSTILE_LIMIT_S} s")
    for job_id in good:
        if jobs[job_id]["state"] != "held":
            problems.append(f"good job {job_id}: {jobs[job_id]['state']} "
                            f"({jobs[job_id]['reason']})")
    assert not problems, "\n".join(problems)
    assert srv.proc.poll() is None
    assert srv.get("/healthz").status_code == 200
    last = submit(inst, "eve@example.com", corpus["writer.docx"].path, claim=True)
    job = wait_jobs(inst, [last], timeout=120, server=srv)[last]
    assert job["state"] == "held", f"{job['state']}: {job['reason']}"
    assert int(job["pages"]) == 3


# --- 4. a worker on another host (PostgreSQL queue) ---------------------------------------

def test_remote_worker_takes_jobs_from_postgresql(tmp_path, request, server_factory, corpus):
    converter()
    database = make_pg_database(request.getfixturevalue("pg_url"))
    inst = Installation(str(tmp_path), database=database, convert=False)
    inst.cli("users", "add", "rob@example.com")
    srv = server_factory(inst)
    before = submit(inst, "rob@example.com", corpus["colour.pdf"].path, claim=True)
    time.sleep(1)
    assert jobs_by_id(inst)[before]["state"] == "received", "local = no converted anyway"

    log = open(tmp_path / "remote-worker.log", "w", encoding="utf-8")
    worker = subprocess.Popen([PULLPRINT_CONVERT, "--config", inst.config, "--queue"],
                              stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    try:
        later = submit(inst, "rob@example.com", corpus["writer.docx"].path, claim=True)
        jobs = wait_jobs(inst, [before, later], timeout=180, server=srv)
        assert worker.poll() is None, "the queue worker exited"
        for job_id, pages in ((before, 4), (later, 3)):
            assert jobs[job_id]["state"] == "held", jobs[job_id]
            assert int(jobs[job_id]["pages"]) == pages
            assert str(worker.pid) in job_row(inst, job_id)["convert_worker"]
            assert documents(inst, job_id).get("pdf") == "application/pdf"
        # Woken by NOTIFY: an idle worker takes each new job at once, not at its next look
        # (every 5 s). Three in a row under 4 s each: polling alone passes half the time.
        for _ in range(3):
            t0 = time.time()
            job_id = submit(inst, "rob@example.com", corpus["photo.jpg"].path, claim=True)
            assert wait_jobs(inst, [job_id], timeout=60)[job_id]["state"] == "held"
            assert time.time() - t0 < 4, "the queue worker was not woken by NOTIFY"
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            code = worker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
            raise AssertionError("pullprint-convert --queue ignored SIGTERM")
        log.close()
    assert code == 0, open(tmp_path / "remote-worker.log", encoding="utf-8").read()[-2000:]
    assert srv.proc.poll() is None
