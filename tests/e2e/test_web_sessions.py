"""Web sessions of the portal and the panel, end to end against the real pullprintd.

What a user or admin would check: a cookie sign-in never shows the token to the page's
scripts (HttpOnly, Secure, SameSite=Strict; no token in the body); the cookie works for
reading; a change made with the cookie but without X-Requested-With is refused (CSRF);
sign-out clears the cookie and the session stops working. At a panel: the panel token names
the printer and the sign-ins offered; the code alone works only where the admin allows it;
the panel's session ends after panel.idle_timeout_s without use and slides while used.
"""

import re
import time

import requests

import sample_docs
from conftest import code_of, free_port

CSRF = {"X-Requested-With": "pullprint"}


class CaSession(requests.Session):
    """A browser-like cookie jar that trusts the test server's CA on every request (a
    session's own verify is overridden by REQUESTS_CA_BUNDLE)."""

    def __init__(self, ca):
        super().__init__()
        self.ca = ca

    def request(self, method, url, **kw):
        kw.setdefault("verify", self.ca)
        return super().request(method, url, **kw)


def session_for(srv):
    return CaSession(srv.ca)


def cookie_header(response, name):
    for value in response.raw.headers.getlist("Set-Cookie"):
        if value.startswith(name + "="):
            return value
    return None


def test_cookie_session_portal(installation, server_factory):
    inst = installation
    srv = server_factory(inst)
    code = code_of(inst.cli("users", "add", "ann@example.com").stdout)
    web = session_for(srv)
    api = srv.url + "/api/v1"

    r = web.post(api + "/login", json={"email": "ann@example.com", "code": code,
                                       "session": "cookie"}, timeout=30)
    assert r.status_code == 200, r.text
    body = r.json()
    assert "token" not in body and body["user"]["email"] == "ann@example.com"
    cookie = cookie_header(r, "pp_session")
    assert cookie is not None
    for attribute in ("HttpOnly", "Secure", "SameSite=Strict", "Path=/api/"):
        assert attribute in cookie
    assert "Max-Age" not in cookie  # not "stay signed in": gone with the browser session

    assert web.get(api + "/me", timeout=30).json()["user"]["email"] == "ann@example.com"
    assert web.get(api + "/jobs", timeout=30).status_code == 200
    # A change with the cookie alone (what a cross-site form could send) is refused.
    refused = web.post(api + "/logout", timeout=30)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "csrf"
    assert web.get(api + "/me", timeout=30).status_code == 200

    out = web.post(api + "/logout", headers=CSRF, timeout=30)
    assert out.status_code == 204
    cleared = cookie_header(out, "pp_session")
    assert cleared is not None and "Max-Age=0" in cleared
    # The old cookie, sent again by hand, no longer works.
    token = re.match(r"pp_session=([^;]+)", cookie).group(1)
    again = requests.get(api + "/me", cookies={"pp_session": token}, verify=srv.ca, timeout=30)
    assert again.status_code == 401

    # "Stay signed in" makes a persistent cookie.
    code = code_of(inst.cli("users", "code", "ann@example.com").stdout)
    r = web.post(api + "/login", json={"email": "ann@example.com", "code": code,
                                       "session": "cookie", "stay_signed_in": True},
                 timeout=30)
    assert r.status_code == 200, r.text
    assert "Max-Age=" in cookie_header(r, "pp_session")
    bad = web.post(api + "/login", json={"email": "ann@example.com", "code": code,
                                         "session": "jar"}, timeout=30)
    assert bad.status_code == 400


def test_panel_signin(sqlite_installation, server_factory):
    inst = sqlite_installation
    inst.cli("printers", "add", "Lab-3", "--uri", f"ipp://127.0.0.1:{free_port()}/ipp/print",
             "--location", "Floor 3, by the lifts")
    out = inst.cli("printers", "panel-token", "Lab-3").stdout
    panel_token = re.search(r"ppk_[0-9a-f]+", out).group(0)
    assert "/panel/?token=" + panel_token in out
    srv = server_factory(inst)
    code = code_of(inst.cli("users", "add", "ben@example.com").stdout)
    api = srv.url + "/api/v1"
    panel = {"X-Panel-Token": panel_token}

    info = requests.get(api + "/panel", headers=panel, verify=srv.ca, timeout=30)
    assert info.status_code == 200, info.text
    body = info.json()
    assert body["printer"]["name"] == "Lab-3"
    assert body["printer"]["location"] == "Floor 3, by the lifts"
    assert body["signin"]["modes"] == ["code", "email_code"]
    assert body["signin"]["hide_code"] is False and body["idle_timeout_s"] == 60
    wrong = requests.get(api + "/panel", headers={"X-Panel-Token": "ppk_" + "0" * 64},
                         verify=srv.ca, timeout=30)
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "panel_token"
    assert requests.get(api + "/panel", verify=srv.ca, timeout=30).status_code == 401

    # The admin narrows the panel to email + code, hides the code, shortens the idle time.
    inst.cli("settings", "set", "panel.signin_modes", "email_code")
    inst.cli("settings", "set", "panel.hide_code", "yes")
    inst.cli("settings", "set", "panel.idle_timeout_s", "15")
    body = requests.get(api + "/panel", headers=panel, verify=srv.ca, timeout=30).json()
    assert body["signin"]["modes"] == ["email_code"] and body["signin"]["hide_code"] is True
    web = session_for(srv)
    r = web.post(api + "/login", headers=panel, json={"code": code, "session": "cookie"},
                 timeout=30)
    assert r.status_code == 403 and r.json()["error"]["code"] == "mode_not_allowed"
    inst.cli("settings", "set", "panel.signin_modes", "code,email_code")

    r = web.post(api + "/login", headers=panel, json={"code": code, "session": "cookie",
                                                      "stay_signed_in": True}, timeout=30)
    assert r.status_code == 200, r.text
    cookie = cookie_header(r, "pp_panel")
    assert cookie is not None and "HttpOnly" in cookie and "Max-Age" not in cookie
    assert r.json()["stay_signed_in"] is False
    assert r.json()["expires_at"] - time.time() <= 16

    # The panel's session releases only at the panel's own printer.
    inst.cli("printers", "add", "Lab-4", "--uri", f"ipp://127.0.0.1:{free_port()}/ipp/print")
    up = web.post(api + "/jobs", data=sample_docs.pdf(),
                  headers={"Content-Type": "application/pdf", **CSRF, **panel}, timeout=30)
    assert up.status_code == 201, up.text
    job = up.json()["id"]
    elsewhere = web.post(api + f"/jobs/{job}/release", json={"printer": "Lab-4"},
                         headers={**CSRF, **panel}, timeout=30)
    assert elsewhere.status_code == 403 and elsewhere.json()["error"]["code"] == "other_printer"
    here = web.post(api + f"/jobs/{job}/release", json={"printer": "Lab-3"},
                    headers={**CSRF, **panel}, timeout=30)
    assert here.status_code == 409  # allowed here; this job is not converted yet

    # Used within the idle time, the session slides; unused for longer, it is gone.
    for _ in range(3):
        time.sleep(6)
        assert web.get(api + "/me", timeout=30).status_code == 200
    time.sleep(17)
    assert web.get(api + "/me", timeout=30).status_code == 401
