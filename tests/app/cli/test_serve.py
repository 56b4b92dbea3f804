"""`hwplan app` as a user runs it: a real server on a free port, stopped with SIGTERM or SIGINT."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.app.conftest import REPO, free_port


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_app_stops_with_its_signal_and_frees_the_port(sig, seeded_db, model_cache):
    port = free_port()
    env = dict(os.environ, HWPLAN_CACHE_DIR=model_cache)
    proc = subprocess.Popen([sys.executable, "-m", "hwplan", "app", "--port", str(port), "--db", seeded_db], cwd=REPO,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stdout.read().decode(errors="replace")[-2000:]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1) as r:
                    assert r.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, "the dashboard never answered /_stcore/health"
                time.sleep(0.1)
        os.kill(proc.pid, sig)  # the signal a user or a service manager sends: to the process, not its group
        rc = proc.wait(timeout=30)
        assert rc in (0, -sig, 128 + sig)
        assert not _group_alive(proc.pid), "a process of `hwplan app` outlived it"
        with socket.socket() as s:  # nothing listens on the port: the next start binds it (as servers do, past TIME_WAIT)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", port))
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
