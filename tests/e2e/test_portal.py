"""The portal web app end to end: the real pullprintd (conversion on, mail out to an SMTP
sink, two IPP Everywhere printers run by ippeveprinter, one of them switched off) driven in
headless Chromium on a phone-sized screen by tests/browser/portal.mjs.

What a user would check: a new user enrols with the company code and signs in with the code
from the mail; uploads a PDF and a photo and sees them converted with thumbnails; previews
the PDF; picks 2 copies, two-sided, black & white and a printer found by searching; prints,
and the printer gets the job with exactly those options, and the page says it printed; prints
another file at once to a printer that is off, and the page says it failed; deletes the
photo; sees nothing of another user's; signs out and the list is gone. Screenshots of each
screen are kept (BUILD/screenshots/portal).
"""

import json
import os
import re
import subprocess
import threading

import pytest

import browser
import sample_docs
from conftest import Installation, free_port
from mail_servers import SmtpSink
from printers_fixture import printer_farm  # noqa: F401 (a fixture)

EMAIL = "erin@example.com"
PDF_CAPS = {"formats": ["application/pdf", "image/pwg-raster"], "is_color": True,
            "has_duplex": True}


def hand_over_code(sink, code_file, errors):
    """Waits for the code mail to EMAIL and writes the code where the scenario polls for it
    (written whole, then renamed, so the scenario never reads half of it)."""
    try:
        [mail] = sink.wait_for(EMAIL, timeout=60)[-1:]
        text = mail.get_body(preferencelist=("plain",)).get_content()
        match = re.search(r"confirmation code: (\d+)", text)
        assert match, text
        tmp = code_file + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(match.group(1))
        os.rename(tmp, code_file)
    except Exception as err:  # reported by the test, not lost in the thread
        errors.append(err)


@pytest.fixture
def portal(tmp_path, request, server_factory, printer_farm):
    inst = Installation(str(tmp_path / "inst"), convert=True, workers=2,
                        delivery_settings={"retry_delays": "200ms,200ms"})
    sink = SmtpSink(str(tmp_path / "sink")).start()
    request.addfinalizer(sink.stop)
    lab = printer_farm.eve("lab", "application/pdf,image/pwg-raster")
    inst.cli("printers", "add", "Lab-2", "--uri", lab.uri, "--caps", json.dumps(PDF_CAPS),
             "--location", "Second floor lab")
    inst.cli("printers", "add", "Basement", "--uri",
             f"ipp://127.0.0.1:{free_port()}/ipp/print", "--caps", json.dumps(PDF_CAPS),
             "--location", "Basement, by the stairs")
    inst.cli("mail", "smtp", "set", "--host", "127.0.0.1", "--port", str(sink.port),
             "--security", "plain", "--from", "printing@example.com")
    inst.cli("settings", "set", "users.unknown_sender_policy", "accept")
    company = inst.cli("company-code").stdout.split()[-1]
    # Another user's job, which Erin must never see.
    inst.cli("users", "add", "dave@example.com")
    secret = tmp_path / "dave-secret.pdf"
    secret.write_bytes(sample_docs.pdf(text="Dave secret"))
    inst.cli("jobs", "submit", "--user", "dave@example.com", str(secret), "--title",
             "Dave secret plans")
    srv = server_factory(inst)
    return inst, srv, sink, lab, company


def test_portal_flow(portal, tmp_path):
    inst, srv, sink, lab, company = portal
    report = tmp_path / "quarterly report.pdf"
    report.write_bytes(sample_docs.pdf(pages=3, text="Quarterly report"))
    photo = tmp_path / "holiday photo.jpg"
    subprocess.run(["convert", "-size", "600x400", "gradient:orange-navy", "-quality", "85",
                    str(photo)], check=True, capture_output=True, timeout=60)
    ticket = tmp_path / "boarding pass.pdf"
    ticket.write_bytes(sample_docs.pdf(text="Boarding pass"))
    code_file = str(tmp_path / "code.txt")
    errors = []
    courier = threading.Thread(target=hand_over_code, args=(sink, code_file, errors),
                               daemon=True)
    courier.start()

    result = browser.run_scenario("portal", srv, {
        "companyCode": company, "email": EMAIL, "codeFile": code_file,
        "pdf": str(report), "photo": str(photo), "printNow": str(ticket),
        "foreignTitle": "Dave secret plans", "printer": "Lab-2", "offPrinter": "Basement",
    }, timeout=240)
    courier.join(timeout=1)
    assert not errors, errors

    # The printer received the PDF with the options picked in the sheet.
    [(printer_job, path)] = lab.wait_jobs(1)
    got = lab.job(printer_job)
    assert got["copies"] == [2]
    assert got["sides"] == ["two-sided-long-edge"]
    assert got["print-color-mode"] == ["monochrome"]
    assert got["job-name"] == ["quarterly report.pdf"]
    assert got["job-originating-user-name"] == [EMAIL]

    # What the server holds agrees with what the page showed.
    jobs = {j["title"]: j for j in inst.cli_json("jobs", "list", "--user", EMAIL)}
    assert jobs["quarterly report.pdf"]["state"] == "completed"
    # The printer that is off could not print it: held again, with the reason.
    assert jobs["boarding pass.pdf"]["state"] == "held"
    assert "Basement" in jobs["boarding pass.pdf"]["reason"]
    assert jobs["shared ticket.pdf"]["state"] == "held"
    assert "holiday photo.jpg" not in jobs or jobs["holiday photo.jpg"]["state"] == "canceled"
    assert result["signedOutJobs"] == 0
    assert result["pageErrors"] == []
