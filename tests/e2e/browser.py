"""Runs a browser scenario (tests/browser/*.mjs) against a running server and returns what it
handed back. The scenario drives Debian's headless Chromium through playwright-core
(installed by scripts/install-deps from tests/browser/package-lock.json); see
tests/browser/lib.mjs for its side of the contract.

Screenshots go to PP_SCREENSHOT_DIR (default: BUILD/screenshots/<scenario>), kept after the
run so people can look at each screen.
"""

import json
import os
import shutil
import subprocess

from conftest import BUILD, ROOT

BROWSER_DIR = os.path.join(ROOT, "tests", "browser")


def screenshot_dir(scenario):
    base = os.environ.get("PP_SCREENSHOT_DIR", os.path.join(BUILD, "screenshots"))
    return os.path.join(base, scenario)


def run_scenario(scenario, srv, params=None, timeout=300):
    """Runs tests/browser/<scenario>.mjs with the server's URL and params (a dict); fails the
    test with the scenario's output when it fails. Returns the RESULT object."""
    node = shutil.which("node")
    assert node, "Node.js is missing: run scripts/install-deps"
    assert os.path.isfile(os.path.join(BROWSER_DIR, "node_modules", "playwright-core",
                                       "package.json")), \
        "playwright-core is missing: run scripts/install-deps"
    assert os.path.isfile("/usr/bin/chromium"), "Chromium is missing: run scripts/install-deps"
    env = dict(os.environ)
    env.update(PP_URL=srv.url, PP_PARAMS=json.dumps(params or {}),
               PP_SCREENSHOT_DIR=screenshot_dir(scenario))
    proc = subprocess.run([node, os.path.join(BROWSER_DIR, scenario + ".mjs")], env=env,
                          cwd=BROWSER_DIR, capture_output=True, text=True, timeout=timeout)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"browser scenario {scenario} failed:\n{output}"
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, f"browser scenario {scenario} ended without a RESULT line:\n{output}"
    return json.loads(lines[-1][len("RESULT "):])
