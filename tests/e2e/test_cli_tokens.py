"""`pullprint users printer-uri` and `pullprint forwarders` as an admin uses them: personal
printer addresses and forwarder tokens are printed once, listed by handle and label, revoked
by handle, and never written to the audit log. Every test runs on SQLite and on PostgreSQL."""

import configparser
import re
import socket

URI_RE = re.compile(r"ipps://(\S+):(\d+)/ipp/print/u/(ppp_[0-9a-f]{64})")
HANDLE_RE = re.compile(r"[0-9a-f]{16}")


def printer_uri(stdout):
    match = URI_RE.search(stdout)
    assert match, stdout
    return match.group(1), int(match.group(2)), match.group(3)


def assert_never_in_audit(inst, *secrets):
    text = inst.cli("audit").stdout + inst.cli("--json", "audit").stdout
    for secret in secrets:
        assert secret not in text
        assert secret[4:] not in text  # not even without its prefix


def test_printer_uri_add_list_revoke(installation):
    inst = installation
    inst.cli("users", "add", "ann@example.com")
    inst.cli("users", "add", "bob@example.com")

    # Without a public_url the address is this machine's name and the HTTPS port.
    out = inst.cli("users", "printer-uri", "add", "Ann@Example.com", "--label",
                   "Ann's iPhone").stdout
    host, port, phone = printer_uri(out)
    assert (host, port) == (socket.gethostname(), inst.https_port)
    assert "IPP printer" in out  # tells the admin what to do with it
    handle = re.search(r"handle ([0-9a-f]{16})", out).group(1)

    added = inst.cli_json("users", "printer-uri", "add", "ann@example.com")
    assert added["email"] == "ann@example.com"
    assert HANDLE_RE.fullmatch(added["handle"]) and added["handle"] != handle
    assert added["label"]  # a default label (the day) when none is given
    laptop = printer_uri(added["uri"])[2]
    assert laptop != phone

    # The list shows handles and labels (oldest first; these share a second), never the token.
    listed = inst.cli_json("users", "printer-uri", "list", "ann@example.com")
    assert sorted((e["handle"], e["label"]) for e in listed) == \
        sorted([(handle, "Ann's iPhone"), (added["handle"], added["label"])])
    assert all(e["created"] and e["last_used"] == "" for e in listed)
    text = inst.cli("users", "printer-uri", "list", "ann@example.com").stdout
    assert handle in text and "Ann's iPhone" in text and "never" in text
    assert phone not in text and phone[4:] not in text
    assert inst.cli_json("users", "printer-uri", "list", "bob@example.com") == []

    # Revoke by handle: only the owner's handle works; then it is gone.
    wrong_user = inst.cli("users", "printer-uri", "revoke", "bob@example.com", handle,
                          check=False)
    assert wrong_user.returncode == 3
    inst.cli("users", "printer-uri", "revoke", "ann@example.com", handle)
    assert [e["handle"] for e in inst.cli_json("users", "printer-uri", "list",
                                               "ann@example.com")] == [added["handle"]]
    again = inst.cli("users", "printer-uri", "revoke", "ann@example.com", handle, check=False)
    assert again.returncode == 3
    assert "printer-uri list" in again.stderr

    assert_never_in_audit(inst, phone, laptop)
    actions = [(e["action"], e["object"]) for e in inst.cli_json("audit")]
    assert ("token.issue", "ann@example.com") in actions
    assert ("token.revoke", "ann@example.com") in actions

    # Deleting the user takes their addresses; the same address added again has none.
    inst.cli("users", "delete", "ann@example.com")
    inst.cli("users", "add", "ann@example.com")
    assert inst.cli_json("users", "printer-uri", "list", "ann@example.com") == []


def test_printer_uri_follows_public_url_and_refuses_bad_input(installation):
    inst = installation
    inst.cli("users", "add", "carol@example.com")
    inst.write_config("[server]\npublic_url = https://print.example.com:9443/portal/\n")
    out = inst.cli("users", "printer-uri", "add", "carol@example.com").stdout
    assert printer_uri(out)[:2] == ("print.example.com", 9443)
    # A public URL without a port: the HTTPS port, as `dns-sd-records` says.
    inst.write_config("[server]\npublic_url = https://print.example.com/\n")
    out = inst.cli("users", "printer-uri", "add", "carol@example.com").stdout
    assert printer_uri(out)[:2] == ("print.example.com", inst.https_port)

    cases = [
        (("users", "printer-uri", "add", "nobody@example.com"), 3),
        (("users", "printer-uri", "add", "carol@example.com", "--label", ""), 2),
        (("users", "printer-uri", "add", "carol@example.com", "--label", "x" * 64), 2),
        (("users", "printer-uri", "add", "carol@example.com", "--label", "a\nb"), 2),
        (("users", "printer-uri", "add"), 2),
        (("users", "printer-uri", "list"), 2),
        (("users", "printer-uri", "list", "nobody@example.com"), 3),
        (("users", "printer-uri", "revoke", "carol@example.com", "xyz"), 2),
        (("users", "printer-uri", "revoke", "carol@example.com", "0" * 16), 3),
        (("users", "printer-uri", "frobnicate", "carol@example.com"), 2),
        (("forwarders", "revoke", "not-a-handle"), 2),
        (("forwarders", "revoke", "0" * 16), 3),
        (("forwarders", "add"), 2),
        (("forwarders", "add", ""), 2),
    ]
    for args, code in cases:
        proc = inst.cli(*args, check=False)
        assert proc.returncode == code, (args, proc.returncode, proc.stderr)
        assert proc.stderr, args
    assert len(inst.cli_json("users", "printer-uri", "list", "carol@example.com")) == 2


def test_forwarders_add_list_revoke(installation, server_factory):
    inst = installation
    # The server makes its self-signed certificate at first start; the backend pins it.
    srv = server_factory(inst)
    srv.stop()
    fingerprint = re.search(r"SHA-256 ([0-9A-F:]{95})", srv.stdout()).group(1)

    out = inst.cli("forwarders", "add", "cups-01").stdout
    block = out[out.index("[backend]"):out.index("Revoke")]
    conf = configparser.ConfigParser()
    conf.read_string(block)
    backend = conf["backend"]
    assert backend["server"] == f"ipps://{socket.gethostname()}:{inst.https_port}"
    token = backend["token"]
    assert re.fullmatch(r"ppf_[0-9a-f]{64}", token)
    assert backend["fingerprint"] == fingerprint
    handle = re.search(r"handle ([0-9a-f]{16})", out).group(1)

    second = inst.cli_json("forwarders", "add", "samba-02")
    assert second["server"] == backend["server"] and second["fingerprint"] == fingerprint
    assert re.fullmatch(r"ppf_[0-9a-f]{64}", second["token"]) and second["token"] != token

    listed = inst.cli_json("forwarders", "list")
    assert sorted((e["handle"], e["name"]) for e in listed) == \
        sorted([(handle, "cups-01"), (second["handle"], "samba-02")])
    assert inst.cli_json("forwarders") == listed
    text = inst.cli("forwarders").stdout
    assert "cups-01" in text and token not in text

    inst.cli("forwarders", "revoke", handle.upper())
    assert [e["name"] for e in inst.cli_json("forwarders")] == ["samba-02"]
    assert inst.cli("forwarders", "revoke", handle, check=False).returncode == 3
    done = inst.cli_json("forwarders", "revoke", second["handle"])
    assert done == {"ok": True}
    assert inst.cli_json("forwarders") == []

    assert_never_in_audit(inst, token, second["token"])
    audit = [(e["action"], e["object"]) for e in inst.cli_json("audit")]
    assert ("token.issue", "cups-01") in audit and ("token.revoke", "samba-02") in audit
