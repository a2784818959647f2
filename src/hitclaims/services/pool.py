"""Worker processes for bulk work, results in submission order, memory bounded.

`Workers.map` keeps at most a few tasks per worker in flight (a plain `Pool.imap` would read the
whole input ahead) and yields results in the order the tasks came, so the output of 1 worker and
of N workers is the same. With one worker everything runs in this process: no start-up cost, and
a profiler sees the work.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

IN_FLIGHT_PER_WORKER = 2  # enough to keep a worker busy while the parent reads the next chunk
PARENT_CHECK_SECONDS = 1.0


def _watched_worker(parent: int, initializer: Callable[..., None], *initargs: Any) -> None:
    """Start a worker that ends when its parent does: a batch killed mid-way must not leave
    workers behind (the forkserver keeps their pipes open, so they would wait for ever)."""
    initializer(*initargs)
    threading.Thread(target=_end_with, args=(parent,), daemon=True, name="parent-watch").start()


def _end_with(parent: int) -> None:
    while True:
        time.sleep(PARENT_CHECK_SECONDS)
        if not _alive(parent):
            os._exit(1)


def _alive(pid: int) -> bool:
    """Whether the process runs: not gone, and not a zombie that nobody has reaped yet."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):  # gone (or its pid now another user's)
        return False
    try:
        # "pid (name) state ...": the name may hold spaces and parentheses.
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True  # no /proc here: os.kill's answer stands
    return state != "Z"


class Workers:
    def __init__(self, count: int, initializer: Callable[..., None], initargs: tuple[Any, ...] = ()) -> None:
        self.count = max(1, count)
        self.initializer, self.initargs = initializer, initargs
        self.pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> Workers:
        if self.count == 1:
            self.initializer(*self.initargs)
        else:
            # forkserver: the parent runs threads (a progress bar, DuckDB) that a plain fork would
            # copy in whatever state they were in.
            context = multiprocessing.get_context("forkserver")
            self.pool = ProcessPoolExecutor(
                self.count,
                mp_context=context,
                initializer=_watched_worker,
                initargs=(os.getpid(), self.initializer, *self.initargs),
            )
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None

    def map(self, work: Callable[[T], R], tasks: Iterable[T]) -> Iterator[R]:
        if self.pool is None:
            for task in tasks:
                yield work(task)
            return
        pending: deque[Future[R]] = deque()
        for task in tasks:
            pending.append(self.pool.submit(work, task))
            if len(pending) >= self.count * IN_FLIGHT_PER_WORKER:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
