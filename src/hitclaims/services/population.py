"""Write a synthetic population (`hitclaims generate`): NDJSON, one episode a line, as it is made.

Episodes are made in slices by worker processes and written in index order, so the file is the
same bytes whatever the number of workers, and memory holds a few slices at most.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from hitclaims.core.errors import UnusableInputError
from hitclaims.inputs.population import Population, Profile, load_profile, month_start
from hitclaims.services.pool import Workers

SLICE: Final = 2000  # episodes per task

_population: Population | None = None


@dataclass(frozen=True)
class _Slice:
    start: int
    stop: int


def _start(profile: Profile, seed: int, month: str | None) -> None:
    global _population
    _population = Population(profile, seed, month)


def _make(piece: _Slice) -> bytes:
    if _population is None:
        raise RuntimeError("_start was not called in this process")
    return "".join(_population.lines(piece.start, piece.stop)).encode()


def _slices(count: int) -> Iterator[_Slice]:
    for start in range(0, count, SLICE):
        yield _Slice(start, min(count, start + SLICE))


def generate(
    out: Path,
    episodes: int,
    seed: int,
    profile_file: Path | None,
    month: str | None,
    workers: int | None = None,
    advance: Callable[[int], None] = lambda n: None,
) -> int:
    """Write `episodes` episodes to `out`; returns the bytes written."""
    if episodes < 0:
        raise UnusableInputError("the number of episodes cannot be negative", "episodes")
    if month is not None:
        try:
            month_start(month)
        except ValueError:
            raise UnusableInputError(f"{month!r} is not a month (YYYY-MM)", "month") from None
    profile = load_profile(profile_file)
    written = 0
    out.parent.mkdir(parents=True, exist_ok=True)
    count = workers or os.cpu_count() or 1
    with (
        out.open("wb") as file,
        Workers(min(count, max(1, episodes // SLICE)), _start, (profile, seed, month)) as pool,
    ):
        for piece, content in zip(_slices(episodes), pool.map(_make, _slices(episodes)), strict=True):
            file.write(content)
            written += len(content)
            advance(piece.stop - piece.start)
    return written
