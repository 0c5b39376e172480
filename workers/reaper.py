"""Reaping what a local Ray leaves when its driver is killed.

A local Ray is a dozen processes: gcs_server and raylet, which Ray ties to the driver (they
die with it, even on SIGKILL), and what the raylet starts, its dashboard and runtime-env
agents among them. After a `kill -9` of `nas serve` those two agents notice the raylet is
gone and then try to report it to the GCS, which is gone too, for up to a minute (Ray's
fixed 60 s timeout in publish_error): a server that crashes leaves two processes behind
each time, and one that crashes in a loop piles them up.

So the driver that starts a local Ray tags it: the processes ray.init starts carry
NAS_LOCAL_RAY=<token> in their environment. A watchdog started beside it waits on a pipe
from the driver and, once a second meanwhile, notes the tagged children of the driver and
everything below them (the agents cannot be told by their environment: Ray rewrites their
process titles over it). When the pipe closes, because the driver shut Ray down or died
however it died, the watchdog kills every process it noted that still lives, and every
one still carrying the token, and exits.

    python workers/reaper.py TOKEN DRIVER_PID    # the watchdog; the driver holds its stdin
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import psutil

TAG = "NAS_LOCAL_RAY"


@contextmanager
def tagged(token: str) -> Iterator[None]:
    """Processes started inside (Ray's, by ray.init) carry TAG=token; this one not after."""
    before = os.environ.get(TAG)
    os.environ[TAG] = token
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(TAG, None)
        else:
            os.environ[TAG] = before


def watch(token: str) -> subprocess.Popen[bytes]:
    """Start the watchdog; it reaps when the returned process's stdin is closed."""
    env = {k: v for k, v in os.environ.items() if k != TAG}
    return subprocess.Popen(
        [sys.executable, __file__, token, str(os.getpid())],  # a file: no package, no ray
        stdin=subprocess.PIPE,
        env=env,
        close_fds=True,
    )


def carries(process: psutil.Process, token: str) -> bool:
    try:
        return process.environ().get(TAG) == token
    except psutil.Error:  # gone, a zombie, or another user's
        return False


def family(driver: psutil.Process, token: str) -> dict[int, psutil.Process]:
    """The driver's tagged children (its Ray) and every process below them."""
    found: dict[int, psutil.Process] = {}
    try:
        children = driver.children()
    except psutil.Error:
        return found
    for child in children:
        if carries(child, token):
            found[child.pid] = child
            try:
                found.update((p.pid, p) for p in child.children(recursive=True))
            except psutil.Error:
                continue
    return found


def reap(token: str, noted: dict[int, psutil.Process], spare: set[int]) -> int:
    """SIGKILL the noted processes still alive (the same ones, not a reused pid) and any
    process carrying the token; how many there were."""
    left = [p for p in noted.values() if p.pid not in spare and p.is_running()]
    left += [
        p
        for p in psutil.process_iter()
        if p.pid not in spare and p.pid not in noted and carries(p, token)
    ]
    for process in left:
        with contextlib.suppress(psutil.Error):
            process.kill()  # psutil checks the pid still names the same process
    psutil.wait_procs(left, timeout=10)
    return len(left)


def main(argv: list[str]) -> int:
    token, driver_pid = argv[0], int(argv[1])
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):  # Ctrl-C or a group kill: reap, then go
        signal.signal(getattr(signal, name), signal.SIG_IGN)
    noted: dict[int, psutil.Process] = {}
    try:
        driver = psutil.Process(driver_pid)
    except psutil.NoSuchProcess:  # gone before we looked: reap by the token alone
        driver = None
    while driver is not None:
        if driver.is_running():
            noted |= family(driver, token)
        readable, _, _ = select.select([sys.stdin], [], [], 1.0)
        if readable and not os.read(sys.stdin.fileno(), 4096):
            break  # the driver closed the pipe, or died
    reap(token, noted, spare={os.getpid(), driver_pid})
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
