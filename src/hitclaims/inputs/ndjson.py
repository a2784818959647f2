"""Episodes in bulk, read in chunks so memory stays flat whatever the file's size.

Two containers: NDJSON (one episode JSON per line, as `hitclaims generate` writes) and Parquet
with a string column `episode` holding the same JSON (one row per episode). Each episode travels
with its line (or row) number, counted from 1, so a bad one can be reported by where it is.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from hitclaims.core.errors import InputError

EPISODE_COLUMN = "episode"


@dataclass(frozen=True)
class Chunk:
    number: int  # 0, 1, 2 ... in file order
    rows: list[tuple[int, str]]  # (line or row number, episode JSON text)
    size: int  # how much of the file it covers, in the unit of `input_size`


def is_parquet(path: Path) -> bool:
    return path.suffix.lower() in (".parquet", ".pq")


def input_size(path: Path) -> int:
    """Bytes of an NDJSON file, rows of a Parquet file: what a progress bar counts."""
    if is_parquet(path):
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(path).metadata.num_rows)
    return path.stat().st_size


def read_chunks(path: Path, size: int) -> Iterator[Chunk]:
    if not path.is_file():
        raise InputError(str(path), None, None, "no such file")
    if is_parquet(path):
        yield from _parquet_chunks(path, size)
    else:
        yield from _ndjson_chunks(path, size)


def _ndjson_chunks(path: Path, size: int) -> Iterator[Chunk]:
    rows: list[tuple[int, str]] = []
    covered = 0
    number = 0
    with path.open("rb") as file:
        for line_number, raw in enumerate(file, start=1):
            covered += len(raw)
            if not raw.strip():
                continue  # a blank line is no episode (a trailing newline, say)
            # Undecodable bytes become U+FFFD: the episode is then reported as bad JSON by its line.
            rows.append((line_number, raw.decode("utf-8", errors="replace")))
            if len(rows) == size:
                yield Chunk(number, rows, covered)
                rows, covered, number = [], 0, number + 1
    if rows or covered:
        yield Chunk(number, rows, covered)


def _parquet_chunks(path: Path, size: int) -> Iterator[Chunk]:
    import pyarrow.parquet as pq

    file = pq.ParquetFile(path)
    if EPISODE_COLUMN not in file.schema_arrow.names:
        raise InputError(str(path), None, EPISODE_COLUMN, "a Parquet input needs a string column 'episode'")
    row = 0
    for number, batch in enumerate(file.iter_batches(batch_size=size, columns=[EPISODE_COLUMN])):
        texts = batch.column(0).to_pylist()
        rows = [(row + i + 1, text or "") for i, text in enumerate(texts)]  # a null is a bad episode
        row += len(texts)
        yield Chunk(number, rows, len(texts))
