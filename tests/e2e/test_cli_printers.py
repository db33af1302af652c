"""`pullprint printers` as an admin uses it to keep the printer registry: add, edit, show,
capabilities, export and import (CSV and JSON, dry runs, bad rows named by line and field)
and the panel token, printed once and never shown again. Every test runs on SQLite and on
PostgreSQL."""

import csv
import io
import json
import re
import socket

TOKEN_RE = re.compile(r"ppk_[0-9a-f]{64}")


def registry(inst):
    """The registry as `printers export --format json` gives it, by name."""
    return {p["name"]: p for p in json.loads(inst.cli("printers", "export", "--format",
                                                      "json").stdout)}


def test_add_edit_show(installation):
    inst = installation
    inst.cli("printers", "add", "Lab-Color", "--uri", "ipps://lab.example.com:631/ipp/print",
             "--alias", "Lab", "--location", "2nd floor, room 201", "--description",
             "Colour laser", "--group", "Floor2")
    inst.cli("printers", "add", "hall", "--uri", "socket://10.0.0.7:9100", "--format", "pcl5",
             "--caps", '{"formats":[],"speaks_pjl":true,"is_color":false}', "--disabled")

    listed = inst.cli_json("printers", "list")
    assert [(p["name"], p["alias"], p["enabled"], p["group"], p["format"]) for p in listed] == \
        [("hall", "hall", "no", "", "pcl5"), ("Lab-Color", "lab", "yes", "floor2", "auto")]

    shown = inst.cli_json("printers", "show", "LAB")  # by alias, any case
    assert shown["device_uri"] == "ipps://lab.example.com:631/ipp/print"
    assert shown["location"] == "2nd floor, room 201"
    assert shown["output_format"] == "auto" and shown["format_used"] == "pdf"
    assert shown["panel_token"] is False
    assert shown["capabilities"]["formats"] == ["application/pdf"]

    # Edit any field; the rest stays.
    inst.cli("printers", "edit", "lab", "--name", "Lab-Mono", "--uri",
             "ipp://lab2.example.com/ipp/print", "--format", "ps", "--group", "", "--disabled")
    shown = inst.cli_json("printers", "show", "Lab-Mono")
    assert (shown["alias"], shown["device_uri"], shown["output_format"], shown["group"],
            shown["enabled"], shown["location"]) == \
        ("lab", "ipp://lab2.example.com/ipp/print", "ps", "", False, "2nd floor, room 201")
    inst.cli("printers", "edit", "Lab-Mono", "--enabled")
    assert inst.cli_json("printers", "show", "lab")["enabled"] is True

    # Capabilities: shown, replaced (keys left out go back to the defaults), and used.
    caps = inst.cli_json("printers", "caps", "hall")
    assert caps["speaks_pjl"] is True and caps["is_color"] is False
    inst.cli("printers", "caps", "lab", "--set",
             '{"formats":["image/urf","image/pwg-raster"],"has_duplex":true}')
    inst.cli("printers", "edit", "lab", "--format", "auto")
    shown = inst.cli_json("printers", "show", "lab")
    assert shown["capabilities"]["has_duplex"] is True
    assert shown["format_used"] == "pwg"
    text = inst.cli("printers", "show", "lab").stdout
    assert "auto (sends pwg)" in text

    # Refusals say what is allowed, with the documented exit codes.
    cases = [
        (("printers", "add", "x", "--uri", "http://x/"), 2, "ipp, ipps, socket or lpd"),
        (("printers", "add", "x", "--uri", "ipp://x/", "--format", "pdf2"), 2,
         "auto, pdf, pwg, urf, ps, pcl5 or pcl6"),
        (("printers", "add", "x", "--uri", "ipp://x/", "--group", "a b"), 2, "group"),
        (("printers", "add", "x", "--uri", "ipp://x/", "--caps", '{"duplex":1}'), 2,
         "unknown key"),
        (("printers", "add", "x"), 2, "--uri"),
        (("printers", "add", "HALL", "--uri", "ipp://x/"), 4, "already used"),
        (("printers", "edit", "hall", "--alias", "lab"), 4, "already used"),
        (("printers", "edit", "nowhere", "--location", "x"), 3, "no printer"),
        (("printers", "caps", "hall", "--set", "[]"), 2, "object"),
        (("printers", "add", "x", "--uri", "ipp://x/", "--enabled"), 2, "usage"),
    ]
    for args, code, message in cases:
        proc = inst.cli(*args, check=False)
        assert proc.returncode == code, (args, proc.returncode, proc.stderr)
        assert message in proc.stderr, (args, proc.stderr)
    assert len(inst.cli_json("printers")) == 2

    # Every change is in the audit log with the actor.
    actions = [(e["action"], e["object"]) for e in inst.cli_json("audit")
               if e["action"].startswith("printer.")]
    assert ("printer.add", "Lab-Color") in actions
    assert ("printer.update", "Lab-Color") in actions  # the rename, under the old name
    assert ("printer.update", "Lab-Mono") in actions
    assert all(e["actor"].startswith("cli") for e in inst.cli_json("audit"))


def test_export_import_round_trip(installation, tmp_path):
    inst = installation
    inst.cli("printers", "add", "lab", "--uri", "ipp://lab.example.com/ipp/print",
             "--location", 'Room 1, "east"', "--group", "west")
    inst.cli("printers", "add", "hall", "--uri", "lpd://printserver/hall", "--caps",
             '{"has_duplex":true}')
    before = registry(inst)

    exported = inst.cli("printers", "export").stdout  # CSV by default
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert [r["name"] for r in rows] == ["hall", "lab"]
    assert rows[1]["location"] == 'Room 1, "east"' and rows[1]["group"] == "west"
    assert json.loads(rows[0]["capabilities"])["has_duplex"] is True

    # Into an empty installation: the same registry comes out.
    path = tmp_path / "printers.csv"
    path.write_text(exported)
    for name in ("hall", "lab"):
        inst.cli("printers", "remove", name)
    out = inst.cli("printers", "import", str(path)).stdout
    assert "line 2: hall: added" in out and "line 3: lab: added" in out
    assert registry(inst) == before

    # JSON the same way, chosen by the file's name.
    json_path = tmp_path / "printers.json"
    json_path.write_text(inst.cli("--json", "printers", "export").stdout)
    imported = inst.cli_json("printers", "import", str(json_path))
    assert imported["unchanged"] == 2 and imported["stored"] is True

    # An asset list: updates by name, adds new ones; --dry-run changes nothing.
    path.write_text("name,location,device_uri,enabled,group\n"
                    "LAB,Room 9,,no,\n"
                    "cellar,Basement,socket://10.0.0.9,yes,west\n")
    dry = inst.cli("printers", "import", str(path), "--dry-run").stdout
    assert "LAB: would be updated" in dry and "cellar: would be added" in dry
    assert "nothing stored" in dry
    assert registry(inst) == before
    report = inst.cli_json("printers", "import", str(path))
    assert [(r["line"], r["name"], r["action"]) for r in report["rows"]] == \
        [(2, "LAB", "updated"), (3, "cellar", "added")]
    after = registry(inst)
    assert after["LAB"]["location"] == "Room 9" and after["LAB"]["enabled"] is False
    assert after["LAB"]["device_uri"] == "ipp://lab.example.com/ipp/print"  # empty: kept
    assert after["cellar"]["group"] == "west"


def test_import_error_rows_store_nothing(installation, tmp_path):
    inst = installation
    inst.cli("printers", "add", "lab", "--uri", "ipp://lab.example.com/ipp/print")
    before = registry(inst)
    audit_before = len(inst.cli_json("audit"))
    path = tmp_path / "assets.csv"
    path.write_text("name,alias,device_uri,output_format\n"
                    "first,,ipp://first.example.com/,auto\n"
                    "second,,http://second/,\n"
                    "\n"
                    "third,lab,ipp://third/,\n"
                    "fourth,,ipp://fourth/,pdf9\n")
    proc = inst.cli("printers", "import", str(path), check=False)
    assert proc.returncode == 1
    assert "line 3: second: device_uri:" in proc.stdout
    assert "line 5: third: alias:" in proc.stdout
    assert "line 6: fourth: output_format:" in proc.stdout
    assert "nothing stored" in proc.stdout
    assert "invalid" in proc.stderr
    assert registry(inst) == before  # first was not added either
    assert len(inst.cli_json("audit")) == audit_before

    report = json.loads(inst.cli("--json", "printers", "import", str(path),
                                 check=False).stdout)
    bad = [(r["line"], r["field"]) for r in report["rows"] if r["action"] == "invalid"]
    assert bad == [(3, "device_uri"), (5, "alias"), (6, "output_format")]
    assert report["stored"] is False

    # A file that cannot be read as a table at all.
    path.write_text("name,colour\nx,red\n")
    proc = inst.cli("printers", "import", str(path), check=False)
    assert proc.returncode == 1 and "colour" in proc.stderr and "line 1" in proc.stderr
    proc = inst.cli("printers", "import", str(tmp_path / "missing.csv"), check=False)
    assert proc.returncode == 2
    proc = inst.cli("printers", "import", str(path), "--format", "xml", check=False)
    assert proc.returncode == 2


def test_panel_token_shown_once(installation):
    inst = installation
    inst.cli("printers", "add", "lab", "--uri", "ipp://lab.example.com/ipp/print")

    out = inst.cli("printers", "panel-token", "lab").stdout
    tokens = TOKEN_RE.findall(out)
    assert len(set(tokens)) == 1
    token = tokens[0]
    host = socket.gethostname()
    assert f"https://{host}:{inst.https_port}/panel/?token={token}" in out

    # Never shown again: not by show, list, export or the audit log.
    shown = inst.cli("printers", "show", "lab").stdout + \
        inst.cli("--json", "printers", "show", "lab").stdout + \
        inst.cli("printers", "list").stdout + inst.cli("printers", "export").stdout + \
        inst.cli("--json", "printers", "export").stdout + \
        inst.cli("--json", "audit").stdout
    assert token not in shown and token[4:] not in shown
    assert inst.cli_json("printers", "show", "lab")["panel_token"] is True
    actions = [e["action"] for e in inst.cli_json("audit")]
    assert "printer.panel_token.issue" in actions

    # With a public URL, the panel lives under it; a new token replaces the old.
    inst.write_config("[server]\npublic_url = https://print.example.com:9443/\n")
    again = inst.cli_json("printers", "panel-token", "lab")
    assert again["printer"] == "lab" and TOKEN_RE.fullmatch(again["token"])
    assert again["token"] != token
    assert again["url"] == f"https://print.example.com:9443/panel/?token={again['token']}"

    out = inst.cli("printers", "panel-token", "lab", "--revoke").stdout
    assert "revoked" in out
    assert inst.cli_json("printers", "show", "lab")["panel_token"] is False
    out = inst.cli("printers", "panel-token", "lab", "--revoke").stdout
    assert "no panel token" in out
    proc = inst.cli("printers", "panel-token", "nowhere", check=False)
    assert proc.returncode == 3
