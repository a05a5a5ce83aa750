"""Runs the page's JavaScript unit tests (tests/frontend/js/*.test.mjs) under Node's built-in test runner.

One pytest entry point for everything: `node --test` must exit 0; on failure its whole report is shown.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

JS_TESTS = Path(__file__).parent / "js"


def test_javascript_unit_tests_pass() -> None:
    node = shutil.which("node")
    assert node, "Node.js is needed for the page's tests (apt-get install -y nodejs)"
    # the files by name: how `node --test` treats a bare directory differs between Node versions
    files = sorted(str(path) for path in JS_TESTS.glob("*.test.mjs"))
    assert len(files) >= 2, f"expected the preprocess and api tests in {JS_TESTS}, found {files}"
    done = subprocess.run([node, "--test", *files], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"node --test failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    assert "# fail 0" in done.stdout, done.stdout
