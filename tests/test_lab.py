"""`make lab` starts JupyterLab as whoever runs it (root in classroom containers) on a chosen port."""

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

from helpers.paths import REPO_ROOT


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _contents(port: int, token: str, deadline: float) -> list[dict]:
    """The notebooks folder as the server lists it, asked until the server answers or ``deadline``."""
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/contents?token={token}", timeout=30) as answer:
                return json.load(answer)["content"]
        except urllib.error.URLError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def test_make_lab_serves_the_notebooks_on_the_chosen_port():
    port = _free_port()
    lab = subprocess.Popen(
        ["make", "-s", "lab", f"LAB_PORT={port}"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        log, url = "", None
        deadline = time.monotonic() + 120
        while url is None and time.monotonic() < deadline and lab.poll() is None:
            log += lab.stdout.readline()
            url = re.search(rf"http://127\.0\.0\.1:{port}/lab\?token=(\w+)", log)
        assert url, f"no server address in make lab's output:\n{log}"
        names = {item["name"] for item in _contents(port, url.group(1), deadline)}
        assert "00_generate_world.ipynb" in names and "exercises" in names
    finally:
        os.killpg(lab.pid, signal.SIGTERM)
        lab.wait(timeout=60)
