"""Fault injection for the resume tests: a ``kill -9`` of a worker or of the driver mid-run.

Off unless the environment asks for it; never set in normal use.

* ``MYELONAV_BATCH_KILL_WORKER=<marker file>``: the first bucket task to start creates the
  marker and kills its own process (SIGKILL), once.
* ``MYELONAV_BATCH_KILL_DRIVER_AFTER=<n>``: the driver kills itself after n finished buckets.
"""

from __future__ import annotations

import os
import signal


def maybe_kill_worker() -> None:
    marker = os.environ.get("MYELONAV_BATCH_KILL_WORKER")
    if not marker:
        return
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return
    os.close(fd)
    os.kill(os.getpid(), signal.SIGKILL)


def maybe_kill_driver(buckets_done: int) -> None:
    after = os.environ.get("MYELONAV_BATCH_KILL_DRIVER_AFTER")
    if after and buckets_done >= int(after):
        os.kill(os.getpid(), signal.SIGKILL)
