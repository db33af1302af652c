"""No secret ever reaches a log line: confirmation codes, admin passwords (the first one and
changed ones), the company code's use aside, database passwords. Known secrets are pushed
through every path built so far; then every log the programs wrote is searched for them."""

import json
import re
import subprocess

from conftest import PULLPRINTD


def test_known_secrets_appear_in_no_log(installation, server_factory, tmp_path):
    inst = installation
    logs = []
    secrets = []

    srv = server_factory(inst)
    first_password = re.search(r"password:\s+(\S+)", srv.stdout()).group(1)
    secrets.append(first_password)

    def cli(*args, **kw):
        proc = inst.cli("--verbose", *args, **kw)
        logs.append(proc.stderr)
        return proc

    # Codes: issued at add, re-issued, issued with a longer length.
    add = json.loads(cli("--json", "users", "add", "erin@example.com").stdout)
    secrets.append(add["code"])
    secrets.append(json.loads(cli("--json", "users", "code", "erin@example.com").stdout)["code"])
    cli("settings", "set", "users.code_length", "12")
    secrets.append(json.loads(cli("--json", "users", "code", "erin@example.com").stdout)["code"])

    # Admin passwords: changed, a new admin, and a rejected short one.
    changed = "Correct-Horse-Battery-Staple-42"
    cli("admin", "passwd", input=changed + "\n")
    cli("admin", "add", "helpdesk", input="Another-Long-Secret-Phrase-7\n")
    secrets += [changed, "Another-Long-Secret-Phrase-7"]
    short = inst.cli("admin", "passwd", input="Sh0rtPw\n", check=False)
    logs.append(short.stderr)
    secrets.append("Sh0rtPw")

    # A document through the spool, so intake and the sweeper run with debug logging.
    doc = tmp_path / "letter.txt"
    doc.write_text("Dear Erin, your code is not in here.\n")
    cli("jobs", "submit", "--user", "erin@example.com", str(doc))
    srv.stop()
    logs.append(srv.stderr())
    logs.append(srv.stdout().replace(first_password, ""))  # shown once, by design

    # A database password in a URL that fails: the error names the server, not the password.
    db_password = "Db-Pa55word-Never-Logged"
    inst.write_config()
    with open(inst.config, "a", encoding="utf-8") as f:
        f.write("[server]\ndatabase = postgresql://pp_test_password:%s@127.0.0.1:1/x\n"
                % db_password)
    failed = subprocess.run([PULLPRINTD, "--config", inst.config], capture_output=True,
                            text=True, timeout=60)
    assert failed.returncode != 0
    logs += [failed.stdout, failed.stderr]
    dump = inst.cli("check-config", "--dump", check=False)
    logs += [dump.stdout, dump.stderr]
    secrets.append(db_password)

    everything = "\n".join(logs)
    # The logs did record the events (so the search below searched something).
    for event in ("user.added", "code.issued", "job.received", "server.ready"):
        assert event in everything, event
    for secret in secrets:
        assert secret not in everything, f"a secret leaked into a log: {secret[:3]}…"
