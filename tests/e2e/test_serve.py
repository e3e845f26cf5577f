"""`flask serve` (what `make run` ends with) really serves the app with its scheduler."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def flask(*args: str) -> list[str]:
    return [sys.executable, "-m", "flask", "--app", "app", *args]


@pytest.mark.slow
def test_serve_answers_on_its_port_and_starts_the_scheduler(tmp_path):
    env = {**os.environ, "SIMDEBRIEF_DATABASE_URL": f"sqlite:///{tmp_path / 'run.sqlite3'}",
           "SIMDEBRIEF_SECRET_KEY": "s" * 40, "SIMDEBRIEF_SCHEDULER": "on"}
    env.pop("SIMDEBRIEF_SMTP_HOST", None)
    subprocess.run(flask("db", "upgrade"), cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=60)
    port = free_port()
    server = subprocess.Popen(flask("serve", "--port", str(port)), cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 20
        status = None
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as r:
                    status = r.status
                    page = r.read().decode()
                break
            except OSError:
                time.sleep(0.2)
        assert status == 200, "the server did not answer"
        assert "Log in to SimDebrief" in page
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=10)
    assert "Scheduler started in-process." in output
