"""Every shell example in the README that calls the server runs as written against a live server.

The README's ```sh blocks are read; each command that calls the server on localhost:8000 (a line
continued with a backslash is one command) runs in bash from the repository's root, with the port
swapped for the live server's and curl made to fail on an HTTP error status. Each must exit 0 and
print JSON. ADMIN_TOKEN is set for the server and the shell alike, as a reader who set it would have.
The ```python blocks run as well and must print what their comments promise.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from backend.paths import PROJECT_ROOT
from backend.testing.live_server import LiveServer

README = PROJECT_ROOT / "README.md"
ADMIN_TOKEN = "readme-example-token"
# curl fails (exit 22) on a 4xx/5xx and still prints the body, so a refused example fails the test
PRELUDE = 'set -o pipefail; curl() { command curl --fail-with-body "$@"; }\n'


def shell_examples(text: str) -> list[str]:
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.DOTALL):
        for command in block.replace("\\\n", " ").splitlines():
            command = command.split("  #")[0].strip()
            if "localhost:8000" in command:
                commands.append(command)
    return commands


EXAMPLES = shell_examples(README.read_text())


def test_the_readme_has_the_examples_this_test_runs():
    assert len(EXAMPLES) >= 10
    assert any("digit.png" in command for command in EXAMPLES) and any("infer" in command for command in EXAMPLES)
    for command in EXAMPLES:
        for path in re.findall(r"@(docs/[\w./-]+)", command):
            assert (PROJECT_ROOT / path).is_file(), f"{path} is used by a README example but not in the repository"


@pytest.fixture(scope="module")
def server():
    with LiveServer(workers=1, env={"ADMIN_TOKEN": ADMIN_TOKEN}) as running:
        yield running


@pytest.mark.parametrize("command", EXAMPLES)
def test_readme_example_runs(server, command):
    runnable = command.replace("localhost:8000", f"127.0.0.1:{server.port}")
    finished = subprocess.run(
        ["bash", "-c", PRELUDE + runnable],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "ADMIN_TOKEN": ADMIN_TOKEN},
    )
    assert finished.returncode == 0, f"{command}\n{finished.stdout}\n{finished.stderr}"
    json.loads(finished.stdout)  # every example prints one JSON document


def test_a_broken_example_would_fail(server):
    finished = subprocess.run(
        ["bash", "-c", PRELUDE + f"curl -s 127.0.0.1:{server.port}/predict -H 'Content-Type: application/json' -d '{{}}'"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert finished.returncode == 22
    assert "pixels" in finished.stdout


def test_readme_python_examples_run(server):
    """The ```python blocks (the tritonclient example) run too, against the same server."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)
    assert blocks, "the README's tritonclient example is gone"
    for block in blocks:
        runnable = block.replace("127.0.0.1:8000", f"127.0.0.1:{server.port}")
        finished = subprocess.run([sys.executable, "-c", runnable], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
        assert finished.returncode == 0, f"{block}\n{finished.stderr}"
        assert finished.stdout.strip() == "[7 2 3]"  # what the example's comment promises
