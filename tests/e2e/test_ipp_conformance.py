"""CUPS's own IPP conformance suites (cups-ipp-utils: ipp-1.1.test, ipp-2.0.test,
ipp-everywhere.test) run with `ipptool -t -I` against the real pullprintd over ipps, as an
authenticated user (USER:CODE in the URI), plus the printer icons as a client fetches them.

Every [PASS]/[FAIL]/[SKIP] line is parsed; the test passes only when the FAILs are exactly
the documented exceptions below, each with the same EXPECTED lines (docs/ipp-conformance.md
explains every one). A new FAIL, a known FAIL for another reason, or an exception that now
passes fails the test with the ipptool output. The exit code is never trusted alone: ipptool
also exits non-zero on the accepted FAILs, and zero would not show a suite that stopped early.

Debian ships the suites without their sample documents, so the test copies the suite files to
a temporary directory and writes small, valid documents beside them (PDF, PostScript, JPEG,
PWG raster) under the names the suites use. -I (go on after a FAIL) shows every failure, not
only the first. The three suites run at once, each as its own user. A pull-print job ends only
when someone releases it, so the test ends the job the suite waits for (see run_suite).
SQLite only: the suites test the protocol, which does not depend on the database.
"""

import collections
import concurrent.futures
import os
import re
import shutil
import struct
import subprocess
import threading
import urllib.parse
import zlib

import pytest

from sample_docs import pdf

IPPTOOL_DIR = "/usr/share/cups/ipptool"

# (suite file, IPP version ipptool speaks). ipp-2.0 INCLUDEs ipp-1.1; ipp-everywhere INCLUDEs
# ipp-2.0: their outputs name the included file before its tests.
SUITES = [("ipp-1.1.test", "1.1"), ("ipp-2.0.test", "2.0"), ("ipp-everywhere.test", "2.0")]

# ---- the documented exceptions (mirror of docs/ipp-conformance.md) ----
#
# (suite run, file the test is in, test name as ipptool prints it, EXPECTED lines). A test
# included by several suites is listed once per suite that runs it.

PER_INCLUDED_FILE = {
    "ipp-1.1.test": [],
    "ipp-2.0.test": [
        # pages-per-minute(-color): a server that holds jobs has no speed of its own.
        ("PWG 5100.12 section 6.2 - Required Printer Description Attributes",
         ("pages-per-minute", "pages-per-minute-color")),
    ],
    "ipp-everywhere.test": [
        # No light, speaker or panel; no page overrides; no supplies to report.
        ("PWG 5100.14 section 5.1/5.2 - Required Operations and Attributes",
         ("identify-actions-default", "identify-actions-supported", "overrides-supported",
          "overrides-supported", "printer-supply", "printer-supply-description",
          "printer-supply-info-uri")),
    ],
}

INCLUDES = {
    "ipp-1.1.test": ["ipp-1.1.test"],
    "ipp-2.0.test": ["ipp-1.1.test", "ipp-2.0.test"],
    "ipp-everywhere.test": ["ipp-1.1.test", "ipp-2.0.test", "ipp-everywhere.test"],
}


def expected_failures():
    """Counter of (suite, file, name, EXPECTED lines) for every accepted FAIL."""
    out = collections.Counter()
    for suite, _ in SUITES:
        for included in INCLUDES[suite]:
            for name, expected in PER_INCLUDED_FILE[included]:
                out[(suite, included, name, tuple(sorted(expected)))] += 1
    return out


# ---- sample documents ----

def postscript(width_pt, height_pt):
    return (f"%!PS-Adobe-3.0\n%%BoundingBox: 0 0 {width_pt} {height_pt}\n%%Pages: 1\n"
            f"%%EndComments\n%%Page: 1 1\n<< /PageSize [{width_pt} {height_pt}] >> setpagedevice\n"
            f"0.8 setgray 72 72 {width_pt - 144} 144 rectfill 0 setgray\n"
            f"/Helvetica findfont 24 scalefont setfont 72 {height_pt - 108} moveto\n"
            "(Pullprint conformance page) show\nshowpage\n%%EOF\n").encode()


def jpeg(width, height, colour):
    """A baseline JPEG of one flat colour: colour is (Y,) for grey or (Y, Cb, Cr)."""
    def segment(marker, payload):
        return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload

    n = len(colour)
    # Quantisation 1 everywhere; DC codes: 12 categories of 4 bits; AC: only EOB, code "0".
    dqt = segment(0xDB, b"\x00" + b"\x01" * 64)
    dht = segment(0xC4, b"\x00" + bytes([0, 0, 0, 12] + [0] * 12) + bytes(range(12)) +
                  b"\x10" + bytes([1] + [0] * 15) + b"\x00")
    sof = segment(0xC0, struct.pack(">BHHB", 8, height, width, n) +
                  b"".join(bytes([i + 1, 0x11, 0]) for i in range(n)))
    sos = segment(0xDA, bytes([n]) + b"".join(bytes([i + 1, 0x00]) for i in range(n)) +
                  b"\x00\x3f\x00")
    bits = []

    def put(value, count):
        bits.extend((value >> (count - 1 - k)) & 1 for k in range(count))

    blocks = ((width + 7) // 8) * ((height + 7) // 8)
    for b in range(blocks):
        for c in range(n):
            diff = 8 * (colour[c] - 128) if b == 0 else 0  # DC of a flat 8x8 block
            cat = abs(diff).bit_length()
            put(cat, 4)
            if cat:
                put(diff if diff > 0 else diff + (1 << cat) - 1, cat)
            put(0, 1)  # EOB
    bits.extend([1] * (-len(bits) % 8))
    scan = bytearray()
    for i in range(0, len(bits), 8):
        byte = int("".join(map(str, bits[i:i + 8])), 2)
        scan.append(byte)
        if byte == 0xFF:
            scan.append(0)  # byte stuffing
    app0 = segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
    return b"\xff\xd8" + app0 + dqt + sof + dht + sos + bytes(scan) + b"\xff\xd9"


# PWG raster (PWG 5102.4) colour spaces, bits per colour, colours and the white pixel.
PWG_TYPES = {
    "black-1": (3, 1, 1, b"\x00"),
    "sgray-8": (18, 8, 1, b"\xff"),
    "srgb-8": (19, 8, 3, b"\xff" * 3),
    "srgb-16": (19, 16, 3, b"\xff" * 6),
    "cmyk-8": (6, 8, 4, b"\x00" * 4),
}
PWG_INK = {"black-1": b"\xff", "sgray-8": b"\x00", "srgb-8": b"\x20\x40\xc0",
           "srgb-16": b"\x20\x00\x40\x00\xc0\x00", "cmyk-8": b"\xc0\x80\x00\x00"}


def pwg_raster(kind, dpi, width_in, height_in, pages):
    """PWG raster pages: white with an ink band, lines run-length coded as the format wants."""
    cspace, bpc, ncolors, white = PWG_TYPES[kind]
    ink = PWG_INK[kind]
    width, height = int(width_in * dpi), int(height_in * dpi)
    bpp = bpc * ncolors
    bytes_per_line = (width * bpp + 7) // 8
    unit = max(1, bpp // 8)  # a run repeats one pixel (or one byte below 8 bits per pixel)
    units = bytes_per_line // unit

    def line(pixel):
        out = bytearray()
        left = units
        while left:
            run = min(128, left)
            out += bytes([run - 1]) + pixel
            left -= run
        return bytes(out)

    def lines(pixel, count):
        out = bytearray()
        while count:
            rep = min(256, count)
            out += bytes([rep - 1]) + line(pixel)
            count -= rep
        return bytes(out)

    def text(s):
        return s.encode().ljust(64, b"\0")

    data = b"RaS2"
    band = height // 10
    for page in range(pages):
        h = bytearray(1796)
        h[0:64] = text("PwgRaster")
        struct.pack_into(">II", h, 276, dpi, dpi)
        struct.pack_into(">I", h, 340, 1)
        struct.pack_into(">II", h, 352, int(width_in * 72), int(height_in * 72))
        struct.pack_into(">II", h, 372, width, height)
        struct.pack_into(">IIII", h, 384, bpc, bpp, bytes_per_line, 0)
        struct.pack_into(">I", h, 400, cspace)
        struct.pack_into(">I", h, 420, ncolors)
        struct.pack_into(">III", h, 452, pages, 1, 1)
        struct.pack_into(">IIII", h, 464, 0, 0, width, height)
        data += bytes(h)
        data += lines(white, band * 4) + lines(ink, band) + lines(white, height - band * 5)
    return data


PAGE_SIZES_PT = {"a4": (595, 842), "letter": (612, 792)}
PAGE_SIZES_IN = {"a4": (8.27, 11.69), "letter": (8.5, 11.0), "4x6": (4.0, 6.0)}
PWG_FILE = re.compile(r"^\s*FILE (pwg-raster-samples-(\d+)dpi/([a-z]+-\d+)/"
                      r"(color\.jpg-4x6|gray\.jpg-4x6|document-a4|document-letter|onepage-a4|"
                      r"onepage-letter)-\3-\2dpi\.pwg)\s*$", re.M)


def prepare_suites(directory):
    """Copies the suites to directory and writes every sample document they name there."""
    for name, _ in SUITES:
        shutil.copy(os.path.join(IPPTOOL_DIR, name), directory)
    samples = {
        "testfile.pdf": pdf(595, 842),
        "document-a4.pdf": pdf(595, 842, pages=2),
        "document-letter.pdf": pdf(612, 792, pages=2),
        "document-a4.ps": postscript(595, 842),
        "document-letter.ps": postscript(612, 792),
        "color.jpg": jpeg(96, 64, (150, 90, 200)),
        "gray.jpg": jpeg(96, 64, (150,)),
    }
    with open(os.path.join(IPPTOOL_DIR, "ipp-everywhere.test"), encoding="utf-8") as f:
        for m in PWG_FILE.finditer(f.read()):
            path, dpi, kind, doc = m.group(1), int(m.group(2)), m.group(3), m.group(4)
            # ipptool reads every FILE while parsing, also of tests it will skip because the
            # printer lacks the resolution or type: every file must exist.
            size = doc.rsplit("-", 1)[1]
            pages = 2 if doc.startswith("document") else 1
            samples[path] = pwg_raster(kind, dpi, *PAGE_SIZES_IN[size], pages)
    for name, data in samples.items():
        path = os.path.join(directory, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
    return os.path.join(directory, "testfile.pdf")


# ---- running ipptool and reading its report ----

RESULT = re.compile(r"^    (\S.*?)\s+\[(PASS|FAIL|SKIP)\]\s*$")
FILE_HEADER = re.compile(r'^"(.+)":\s*$')


def parse_report(suite, stdout):
    """[(suite, file, name, result, EXPECTED lines)] from an `ipptool -t` report."""
    results, current_file, last = [], None, None
    for line in stdout.splitlines():
        m = FILE_HEADER.match(line)
        if m:
            current_file = os.path.basename(m.group(1))
            continue
        m = RESULT.match(line)
        if m:
            last = [suite, current_file, m.group(1), m.group(2), []]
            results.append(last)
            continue
        stripped = line.strip()
        if last is not None and last[3] == "FAIL" and stripped.startswith("EXPECTED:"):
            last[4].append(stripped[len("EXPECTED:"):].strip())
    return [(s, f, n, r, tuple(sorted(e))) for s, f, n, r, e in results]


def count_test_blocks(path):
    """How many tests a suite file holds: its top-level { … } blocks."""
    with open(path, encoding="utf-8") as f:
        return len(re.findall(r"^\{", f.read(), re.M))


def printer_attributes(srv):
    """Get-Printer-Attributes as ipptool -v shows it: {name: value text}."""
    proc = subprocess.run(["ipptool", "-tv", "-T", "10",
                           f"ipps://127.0.0.1:{srv.inst.https_port}/ipp/print",
                           os.path.join(IPPTOOL_DIR, "get-printer-attributes.test")],
                          capture_output=True, text=True, timeout=120)
    attrs = {}
    for m in re.finditer(r"^\s+([a-z0-9-]+) \([^)]*\) = (.*)$", proc.stdout, re.M):
        attrs.setdefault(m.group(1), m.group(2))
    assert attrs, proc.stdout + proc.stderr
    return attrs


WAITING_FOR_COMPLETION = re.compile(r"^    Get-Job-Attributes Until Job Complete\s+\[0001\]")


def run_suite(inst, suite_path, version, user, document):
    """Runs one suite as a new user; returns (exit code, stdout, stderr).

    Plays the person at the printer: a pull-print job waits until its owner releases it,
    and the suite waits (30 polls, 5 s apart) for the job it printed first to end. When that
    wait starts, the job is ended the way an administrator would (`pullprint jobs cancel`:
    releasing needs a real printer), so the suite goes on to check completed-job answers.
    """
    out = inst.cli("users", "add", user).stdout
    code = re.search(r"confirmation code for \S+: (\d+)", out)
    assert code, out
    uri = (f"ipps://{urllib.parse.quote(user, safe='')}:{code.group(1)}@127.0.0.1:"
           f"{inst.https_port}/ipp/print")
    args = ["ipptool", "-t", "-I", "-T", "30", "-V", version, "-f", document, uri,
            str(suite_path)]
    err_path = f"{suite_path}.{user}.stderr"
    lines = []
    with open(err_path, "w+", encoding="utf-8") as err:
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=err, text=True,
                                bufsize=1)
        watchdog = threading.Timer(900, proc.kill)
        watchdog.start()
        try:
            for line in proc.stdout:
                lines.append(line)
                if WAITING_FOR_COMPLETION.match(line):
                    jobs = inst.cli_json("jobs", "list", "--user", user)
                    assert jobs, f"{user} has no job to end:\n{''.join(lines)}"
                    first = min(jobs, key=lambda j: int(j["id"]))
                    inst.cli("jobs", "cancel", first["id"])
            rc = proc.wait()
        finally:
            watchdog.cancel()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        err.seek(0)
        stderr = err.read()
    if rc < 0:
        pytest.fail(f"{suite_path.name}: ipptool was killed after 15 min:\n{''.join(lines)}")
    return rc, "".join(lines), stderr


def test_cups_conformance_suites_fail_only_where_documented(sqlite_installation,
                                                             server_factory, tmp_path):
    inst = sqlite_installation
    server_factory(inst)
    suites_dir = tmp_path / "suites"
    suites_dir.mkdir()
    document = prepare_suites(str(suites_dir))

    # One user per suite, all three at once, each run watched by its own thread.
    with concurrent.futures.ThreadPoolExecutor(len(SUITES)) as pool:
        futures = {suite: pool.submit(run_suite, inst, suites_dir / suite, version,
                                      f"conformance{i}@example.com", document)
                   for i, (suite, version) in enumerate(SUITES)}
        reports = {suite: f.result() for suite, f in futures.items()}

    results = []
    for suite, (rc, stdout, stderr) in reports.items():
        parsed = parse_report(suite, stdout)
        transcript = f"--- {suite} (exit {rc}) ---\n{stdout}\n{stderr}"
        # A suite that stopped early (unreadable file, lost connection) reports fewer tests:
        # every test block of every file it includes must have its result line. (ipptool's
        # own "Summary:" line is not printed for every run, so it is not used.)
        assert "ipptool:" not in stdout + stderr, transcript
        per_file = collections.Counter(f for _, f, _, _, _ in parsed)
        want_blocks = {f: count_test_blocks(suites_dir / f) for f in INCLUDES[suite]}
        assert dict(per_file) == want_blocks, f"results per file {dict(per_file)}, " \
            f"test blocks {want_blocks}\n{transcript}"
        results += parsed

    got = collections.Counter((s, f, n, e) for s, f, n, r, e in results if r == "FAIL")
    want = expected_failures()
    new_failures = got - want
    now_passing = want - got
    transcripts = "\n".join(f"--- {s} (exit {rc}) ---\n{out}\n{err}"
                            for s, (rc, out, err) in reports.items())
    message = ""
    if new_failures:
        message += "FAILs not documented in docs/ipp-conformance.md:\n" + "\n".join(
            f"  {s} / {f}: {n}  EXPECTED {list(e)}" for s, f, n, e in new_failures) + "\n"
    if now_passing:
        message += ("documented exceptions that no longer fail (update the list and the "
                    "doc):\n" + "\n".join(f"  {s} / {f}: {n}  EXPECTED {list(e)}"
                                         for s, f, n, e in now_passing) + "\n")
    assert not message, message + transcripts


def test_printer_icons_are_served_pngs(sqlite_installation, server_factory):
    """Each printer-icons URI answers without credentials with a PNG of the size it names."""
    srv = server_factory(sqlite_installation)
    icons = printer_attributes(srv).get("printer-icons", "")
    uris = icons.split(",")
    assert len(uris) == 3, icons
    for uri in uris:
        parts = urllib.parse.urlsplit(uri)
        assert parts.scheme == "https", uri
        assert parts.port == sqlite_installation.https_port, uri
        size = int(re.fullmatch(r"/icons/printer-(\d+)\.png", parts.path).group(1))
        r = srv.get(parts.path)
        assert r.status_code == 200, (uri, r.status_code, r.text)
        assert r.headers["Content-Type"] == "image/png"
        assert "max-age" in r.headers["Cache-Control"] and r.headers.get("ETag")
        body = r.content
        assert body[:8] == b"\x89PNG\r\n\x1a\n" and body[12:16] == b"IHDR"
        assert struct.unpack(">II", body[16:24]) == (size, size), uri
        # The pixels decode: the IDAT stream inflates to one filter byte + RGBA per row.
        pos, idat = 8, b""
        while pos < len(body):
            length, kind = struct.unpack(">I4s", body[pos:pos + 8])
            if kind == b"IDAT":
                idat += body[pos + 8:pos + 8 + length]
            pos += 12 + length
        assert len(zlib.decompress(idat)) == size * (1 + 4 * size)
        # A client that has it already gets 304.
        again = srv.get(parts.path, headers={"If-None-Match": r.headers["ETag"]})
        assert again.status_code == 304 and not again.content
    assert srv.get("/icons/printer-64.png").status_code == 404
