"""Print by email survives crashes: 200 mails wait in a real Dovecot mailbox while pullprintd
is killed with SIGKILL at random moments and restarted, again and again, until the mailbox
is empty. Every mail must then have made its job exactly once (none lost, none doubled),
every document must open, and every sender must have had a confirmation.
"""

import os
import random
import signal
import time

from conftest import Installation, Server
from mail_servers import Dovecot, SmtpSink
from sample_docs import pdf
from test_mail_in import INBOX, INBOX_PW, REPLIES, mail

MAILS = 200


def test_kill_while_ingesting_200_mails(tmp_path):
    rng = random.Random(int(os.environ.get("PP_CRASH_SEED", "4242")))
    dovecot = Dovecot({INBOX: INBOX_PW}).start()
    sink = SmtpSink(str(tmp_path / "sink")).start()
    servers = []
    try:
        inst = Installation(str(tmp_path / "inst"))
        inst.cli("mail", "smtp", "set", "--host", "127.0.0.1", "--port", str(sink.port),
                 "--security", "plain", "--from", REPLIES)
        inst.cli("settings", "set", "users.unknown_sender_policy", "accept")
        inst.cli("settings", "set", "mail.reply_wait_seconds", "0")
        inst.cli("mail", "accounts", "add", "inbox", "--url", dovecot.url("imaps"), "--user",
                 INBOX, "--ca-file", dovecot.ca, "--interval", "1", input=INBOX_PW + "\n")
        doc = pdf()
        kills = 0
        waves = 10
        per_wave = MAILS // waves
        for wave in range(waves):
            # A wave of mail arrives while the server runs; it is killed at a random moment
            # of the round: fetching, committing, replying, deleting.
            for i in range(wave * per_wave, (wave + 1) * per_wave):
                dovecot.deliver(INBOX, mail(f"user{i % 20}@example.com", f"mail {i}",
                                            [(f"m{i:03d}.pdf", doc, "application/pdf")]))
            srv = Server(inst)
            servers.append(srv)
            srv.start()
            time.sleep(rng.uniform(0.0, 0.35))
            srv.stop(signal.SIGKILL)
            kills += 1
        assert kills == waves

        # A last, undisturbed server takes what is left and sends the confirmations.
        srv = Server(inst)
        servers.append(srv)
        srv.start()
        deadline = time.time() + 120
        while dovecot.waiting(INBOX) > 0 and time.time() < deadline:
            time.sleep(0.2)
        assert dovecot.waiting(INBOX) == 0, "the mailbox was not emptied"
        titles = sorted(j["title"] for j in inst.cli_json("jobs", "list", "--limit", "1000")
                        if j["source"] == "mail")
        expected = [f"m{i:03d}.pdf" for i in range(MAILS)]
        missing = sorted(set(expected) - set(titles))
        doubled = sorted({t for t in titles if titles.count(t) > 1})
        assert not missing, f"lost: {missing}"
        assert not doubled, f"doubled: {doubled}"
        assert titles == expected

        # Each of the 20 senders had 10 mails: at least 10 confirmations each arrive (a crash
        # right after queueing one may send it twice; never a job twice). A reply whose
        # sender was killed mid-send is sent again when the outbox lease (2 min) runs out.
        deadline = time.time() + 180
        while time.time() < deadline:
            counts = [len(sink.to(f"user{u}@example.com")) for u in range(20)]
            if min(counts) >= MAILS // 20:
                break
            time.sleep(0.5)
        assert min(counts) >= MAILS // 20, counts
        srv.stop()
        # No spool file is left without its row, none missing.
        spool = os.path.join(inst.state_dir, "spool")
        files = [f for _, _, names in os.walk(spool) for f in names if len(f) == 32]
        assert len(files) == MAILS
    finally:
        for srv in servers:
            try:
                srv.stop(signal.SIGKILL, timeout=10)
            except Exception:
                pass
        dovecot.stop()
        sink.stop()
