"""The compiled-in web apps: each is served at its folder with the right media type and
security headers, revalidates with its ETag, and loads in Chromium without a script error.
"""

import browser


def test_apps_are_served_with_headers(sqlite_installation, server_factory):
    srv = server_factory(sqlite_installation)
    root = srv.get("/", allow_redirects=False)
    assert root.status_code == 302 and root.headers["Location"] == "/portal/"
    bare = srv.get("/panel", allow_redirects=False)
    assert bare.status_code == 302 and bare.headers["Location"] == "/panel/"
    for app in ("portal", "panel", "admin"):
        page = srv.get(f"/{app}/")
        assert page.status_code == 200
        assert page.headers["Content-Type"] == "text/html; charset=utf-8"
        assert page.headers["Cache-Control"] == "no-store"
        assert "default-src 'self'" in page.headers["Content-Security-Policy"]
        assert page.headers["X-Frame-Options"] == "DENY"
    css = srv.get("/common/base.css")
    assert css.status_code == 200
    assert css.headers["Content-Type"] == "text/css; charset=utf-8"
    assert css.headers["Cache-Control"] == "no-cache"
    again = srv.get("/common/base.css", headers={"If-None-Match": css.headers["ETag"]})
    assert again.status_code == 304
    missing = srv.get("/portal/no-such-file.js")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    outside = srv.get("/portal/../../etc/passwd")
    assert outside.status_code == 404
    # A share that reaches the server (no service worker yet) lands on the portal.
    share = srv.request("POST", "/portal/share", files={"file": ("a.pdf", b"%PDF-1.4", "application/pdf")},
                        allow_redirects=False)
    assert share.status_code == 303 and share.headers["Location"] == "/portal/?shared=retry"


def test_apps_load_in_chromium(sqlite_installation, server_factory):
    srv = server_factory(sqlite_installation)
    result = browser.run_scenario("smoke", srv)
    assert result["loaded"] == {"portal": True, "panel": True, "admin": True}
