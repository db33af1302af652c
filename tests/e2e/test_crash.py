"""kill -9 in the middle of storing a document loses nothing that was acknowledged and leaves
nothing behind: the next start removes the half-written file, and every job that was
acknowledged still opens (`pullprint spool check` reads each document back)."""

import json
import os
import signal
import subprocess
import time

from conftest import PULLPRINT


def spool_files(state_dir):
    found = []
    for dirpath, _, files in os.walk(os.path.join(state_dir, "spool")):
        found += [os.path.join(dirpath, f) for f in files]
    return found


def test_kill_during_intake_then_restart(installation, server_factory, tmp_path):
    inst = installation
    inst.cli("users", "add", "frank@example.com")
    done = tmp_path / "done.pdf"
    done.write_bytes(b"%PDF-1.4\n" + os.urandom(300_000))
    inst.cli("jobs", "submit", "--user", "frank@example.com", str(done))
    before = inst.cli_json("jobs")
    assert len(before) == 1 and before[0]["state"] == "received"
    files_before = spool_files(inst.state_dir)
    assert len(files_before) == 1  # 300 kB: past the size kept in the database

    # A document arriving slowly through a pipe: the submitter is killed half-way.
    fifo = tmp_path / "slow.pdf"
    os.mkfifo(fifo)
    proc = subprocess.Popen([PULLPRINT, "--config", inst.config, "jobs", "submit", "--user",
                             "frank@example.com", str(fifo)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    with open(fifo, "wb") as writer:
        writer.write(b"%PDF-1.4\n" + os.urandom(1_000_000))
        writer.flush()
        deadline = time.time() + 30
        while len(os.listdir(os.path.join(inst.state_dir, "spool", "tmp"))) == 0:
            assert time.time() < deadline, "the submitter never started writing"
            time.sleep(0.05)
        time.sleep(0.2)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert os.listdir(os.path.join(inst.state_dir, "spool", "tmp")), "expected a torn file"

    # The acknowledged job is untouched; the torn write never became a job.
    assert [j["id"] for j in inst.cli_json("jobs")] == [before[0]["id"]]

    srv = server_factory(inst)
    assert "intake.recovered files_removed=1" in srv.stderr()
    assert os.listdir(os.path.join(inst.state_dir, "spool", "tmp")) == []
    assert sorted(spool_files(inst.state_dir)) == sorted(files_before)
    stored = inst.stored_documents()
    assert stored["documents"] == 1 and stored["damaged"] == []
    srv.stop()


def test_kill_server_keeps_every_acknowledged_job(installation, server_factory, tmp_path):
    inst = installation
    inst.cli("users", "add", "gina@example.com")
    srv = server_factory(inst)
    doc = tmp_path / "a.txt"
    doc.write_text("hello\n")
    for _ in range(5):
        inst.cli("jobs", "submit", "--user", "gina@example.com", str(doc))
    srv.stop(signal.SIGKILL)

    again = server_factory(inst)
    jobs = inst.cli_json("jobs", "--user", "gina@example.com")
    assert len(jobs) == 5
    # Small documents are kept in the database with their job: no spool file, all intact.
    stored = inst.stored_documents()
    assert stored["documents"] == 5 and stored["in_database"] == 5, stored
    assert stored["damaged"] == [] and stored["bytes"] == 5 * len("hello\n")
    assert spool_files(inst.state_dir) == []
    again.stop()


def run_sql(inst, sql):
    """Runs sql on the installation's database (an administrator's direct edit)."""
    if inst.database:
        subprocess.run(["psql", inst.database, "-q", "-c", sql], check=True,
                       capture_output=True, timeout=60)
        return
    import sqlite3
    db = sqlite3.connect(os.path.join(inst.state_dir, "pullprint.db"), timeout=30)
    try:
        db.execute(sql)
        db.commit()
    finally:
        db.close()


def test_spool_check_names_damaged_documents(installation, tmp_path):
    inst = installation
    inst.cli("users", "add", "hana@example.com")
    small = tmp_path / "small.txt"
    small.write_text("a small letter\n")
    big = tmp_path / "big.pdf"
    big.write_bytes(b"%PDF-1.4\n" + os.urandom(400_000))
    inst.cli("jobs", "submit", "--user", "hana@example.com", str(small))
    inst.cli("jobs", "submit", "--user", "hana@example.com", str(big))
    stored = inst.stored_documents()
    assert (stored["documents"], stored["in_database"], stored["files"]) == (2, 1, 1), stored
    assert stored["damaged"] == [] and stored["bytes"] == len("a small letter\n") + 400_009
    ok = inst.cli("spool", "check")
    assert "all intact" in ok.stdout

    # A flipped bit in the big document's file; the small one's stored bytes cut short.
    [path] = spool_files(inst.state_dir)
    with open(path, "r+b") as f:
        f.seek(5000)
        byte = f.read(1)[0]
        f.seek(5000)
        f.write(bytes([byte ^ 0x01]))
    run_sql(inst, "UPDATE documents SET sealed = substr(sealed, 1, length(sealed) - 1)"
                 " WHERE sealed IS NOT NULL")

    proc = inst.cli("spool", "check", check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    jobs = {j["title"]: j["id"] for j in inst.cli_json("jobs")}
    for title in ("small.txt", "big.pdf"):
        assert f"damaged: job {jobs[title]}, original document" in proc.stdout, proc.stdout
    assert "2 damaged" in proc.stdout
    report = inst.cli("--json", "spool", "check", check=False)
    assert report.returncode == 1
    listed = sorted(d["job"] for d in json.loads(report.stdout)["damaged"])
    assert listed == sorted(int(i) for i in jobs.values())
