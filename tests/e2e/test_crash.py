"""kill -9 in the middle of storing a document loses nothing that was acknowledged and leaves
nothing behind: the next start removes the half-written file, and every job that was
acknowledged still opens."""

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
    assert len(files_before) == 1

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
    assert len(spool_files(inst.state_dir)) == 5
    again.stop()
