"""Shared fixtures.

``ray_cluster`` starts a real local Ray cluster once per test session (``ray start
--head`` in a subprocess, 2 CPUs, a small object store) and yields its address.

Token authentication (Ray >= 2.59): ``ray start`` enables token auth whenever a token
exists (``RAY_AUTH_TOKEN``, ``RAY_AUTH_TOKEN_PATH`` or ``~/.ray/auth_token`` -- which a
plain ``ray.init()`` creates), and a driver connecting to an *explicit* address never
auto-enables it, so whether a connection works would depend on the machine's history.
We make it deterministic: a fresh token for this session, ``RAY_AUTH_MODE=token`` and
``RAY_AUTH_TOKEN`` exported to the cluster and to this process (restored at teardown).
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

# a script, not a test module: tests/test_tabular_gpu.py runs it in a subprocess with
# NUMBA_ENABLE_CUDASIM=1 (which must be set before numba.cuda is imported), so the doctest
# collector must not import it here
collect_ignore = ["gpu_sim_checks.py"]

AUTH_VARS = ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH", "RAY_USAGE_STATS_ENABLED")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ray_executable() -> str:
    exe = Path(sys.executable).with_name("ray")
    return str(exe) if exe.exists() else (shutil.which("ray") or "ray")


@pytest.fixture(scope="session")
def ray_cluster(tmp_path_factory):
    """Address ("127.0.0.1:<port>") of a local Ray head node started for this session."""
    saved = {k: os.environ.get(k) for k in AUTH_VARS}
    token = secrets.token_hex(32)
    # set before ray is imported: it reads the auth mode into its config at import
    os.environ.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=token, RAY_USAGE_STATS_ENABLED="0")
    os.environ.pop("RAY_AUTH_TOKEN_PATH", None)
    pytest.importorskip("ray")
    _reset_token_cache()
    tmp = tmp_path_factory.mktemp("ray")
    port = _free_port()
    env = dict(os.environ)
    # short temp path: Ray's unix sockets must stay under ~107 characters
    temp_dir = Path("/tmp") / f"mai-ray-{os.getpid()}"
    cmd = [_ray_executable(), "start", "--head", "--node-ip-address=127.0.0.1", f"--port={port}",
           "--num-cpus=2", "--num-gpus=0", f"--object-store-memory={300 * 1024**2}",
           "--disable-usage-stats", "--include-dashboard=false", f"--temp-dir={temp_dir}"]
    out = subprocess.run(cmd, env=env, cwd=tmp, capture_output=True, text=True, timeout=180)
    if out.returncode != 0:
        _restore(saved)
        pytest.fail(f"ray start failed:\n{out.stdout}\n{out.stderr}")
    address = f"127.0.0.1:{port}"
    try:
        yield address
    finally:
        try:
            import ray
            if ray.is_initialized():
                ray.shutdown()
        except ImportError:
            pass
        # not `ray stop`: it kills every Ray process on the machine, other people's too
        _stop_cluster(temp_dir)
        shutil.rmtree(temp_dir, ignore_errors=True)
        _restore(saved)
        _reset_token_cache()


def _cluster_pids(temp_dir: Path) -> list[int]:
    """PIDs of the processes of the cluster started with ``--temp-dir=temp_dir``: those
    whose command line names the temp dir, and all their descendants (workers rename
    themselves ``ray::IDLE`` but stay children of the raylet)."""
    parent, roots = {}, []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        parent[int(proc.name)] = ppid
        if str(temp_dir) in cmd:
            roots.append(int(proc.name))
    found, frontier = set(roots), list(roots)
    while frontier:
        p = frontier.pop()
        for child, pp in parent.items():
            if pp == p and child not in found:
                found.add(child)
                frontier.append(child)
    found.discard(os.getpid())
    return sorted(found)


def _running(pid: int) -> bool:
    """Whether ``pid`` exists and is not a zombie (an exited process its parent has yet to
    reap: nothing left to stop)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def _stop_cluster(temp_dir: Path, term_grace: float = 1.0, kill_grace: float = 10.0) -> None:
    """SIGTERM, then SIGKILL what is left after ``term_grace`` seconds. The grace is short
    because waiting longer buys nothing (measured: the GCS server and the autoscaler monitor
    ignore SIGTERM, the raylet takes 10 s) and the cluster's files are deleted next."""
    pids = _cluster_pids(temp_dir)
    for sig, grace in ((signal.SIGTERM, term_grace), (signal.SIGKILL, kill_grace)):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.time() + grace
        while time.time() < deadline and any(_running(p) for p in pids):
            time.sleep(0.1)
        pids = [p for p in pids if _running(p)]
        if not pids:
            return


def _reset_token_cache():
    """Ray caches the auth mode and token in C++ (read when ray is first imported); make a
    process that imported ray earlier (e.g. another test's ``ray.init()``) read them again."""
    try:
        from ray._raylet import AuthenticationTokenLoader, Config
        Config.initialize("")
        AuthenticationTokenLoader.instance().reset_cache()
    except Exception:  # noqa: BLE001 -- older/newer Ray without the loader: nothing cached
        pass


def _restore(saved):
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
