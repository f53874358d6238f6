"""A Dask client: a ``LocalCluster`` of worker processes, or an existing scheduler."""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator
from typing import Any


@contextlib.contextmanager
def dask_client(*, workers: int | None, scheduler: str | None) -> Iterator[Any]:
    """``scheduler`` (``tcp://host:port``) when given, else ``workers`` local processes with one
    thread each (the matcher and the cohort kernel are CPU-bound Python and numba)."""
    dist: Any = importlib.import_module("distributed")
    Client, LocalCluster = dist.Client, dist.LocalCluster

    if scheduler is not None:
        with Client(scheduler) as client:
            yield client
        return
    with (
        LocalCluster(
            n_workers=max(1, workers or 1),
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # a free port, never a fixed one
            host="127.0.0.1",
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client
