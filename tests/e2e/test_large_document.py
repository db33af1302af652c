"""A document of the full default size limit (1 GiB) passes through the spool with bounded
memory; one byte more is refused with a message that says what to do, and leaves nothing."""

import os
import subprocess
import time

from conftest import PULLPRINT

GIB = 1024 * 1024 * 1024


def vm_hwm_kib(pid):
    """Peak resident memory of a running process in KiB, 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def spool_bytes(state_dir):
    total = 0
    for dirpath, _, files in os.walk(os.path.join(state_dir, "spool")):
        total += sum(os.path.getsize(os.path.join(dirpath, f)) for f in files)
    return total


def test_one_gib_document_streams_with_bounded_memory(sqlite_installation, tmp_path):
    inst = sqlite_installation
    inst.cli("users", "add", "hugo@example.com")
    big = tmp_path / "big.pdf"
    with open(big, "wb") as f:
        f.truncate(GIB)  # sparse: costs no disk to read from

    out = tmp_path / "submit.out"
    with open(out, "w", encoding="utf-8") as stdout:
        proc = subprocess.Popen([PULLPRINT, "--config", inst.config, "--json", "jobs",
                                 "submit", "--user", "hugo@example.com", str(big)],
                                stdout=stdout, stderr=subprocess.DEVNULL)
        # The process's own high-water mark (VmHWM), sampled until it exits: rusage would
        # also count the memory of the test process it was forked from.
        peak_kib = 0
        while proc.poll() is None:
            peak_kib = max(peak_kib, vm_hwm_kib(proc.pid))
            time.sleep(0.05)
    returncode = proc.returncode
    assert returncode == 0
    assert '"size_bytes": 1073741824' in out.read_text()
    # The whole gigabyte went through a few buffers, not into memory.
    assert 0 < peak_kib < 32 * 1024, f"peak RSS {peak_kib} KiB"
    stored = spool_bytes(inst.state_dir)
    assert GIB < stored < GIB * 1.01  # encrypted: the data plus small per-chunk tags

    with open(big, "r+b") as f:
        f.truncate(GIB + 1)
    too_big = subprocess.run([PULLPRINT, "--config", inst.config, "jobs", "submit", "--user",
                              "hugo@example.com", str(big)],
                             capture_output=True, text=True, timeout=600)
    assert too_big.returncode == 1
    assert "larger than the limit" in too_big.stderr
    assert "max_document_bytes" in too_big.stderr
    assert os.listdir(os.path.join(inst.state_dir, "spool", "tmp")) == []
    assert len(inst.cli_json("jobs")) == 1
    assert spool_bytes(inst.state_dir) == stored
