"""What a batch worker does: bill one chunk of episodes, and write one 837 file.

Runs in worker processes (or in the parent with one worker). A chunk's results go straight to
files in the work folder, so only counts travel back to the parent: its five tables as one
Parquet file each, and its ready claims, per payer, as rendered transaction sets for the 837 step.
"""

from __future__ import annotations

import gc
import json
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq

from hitclaims.core.claim import Claim
from hitclaims.core.days import Period
from hitclaims.core.errors import InputError
from hitclaims.core.provider import Provider
from hitclaims.formats.parquet_out import claim_tables
from hitclaims.formats.x12.claim_837p import rendered_transaction, write_rendered_837
from hitclaims.formats.x12.envelope import envelope_for
from hitclaims.inputs.loading import parse_episode
from hitclaims.inputs.ndjson import Chunk
from hitclaims.services.billing import Setup, bill_one

_setup: Setup | None = None


def start_worker(setup: Setup) -> None:
    global _setup
    _setup = setup
    # What lives as long as the worker (modules, catalogs, policies) leaves the collector's
    # generations: a full collection then walks only a chunk's own objects.
    gc.freeze()


def _the_setup() -> Setup:
    if _setup is None:
        raise RuntimeError("start_worker was not called in this process")
    return _setup


@dataclass(frozen=True)
class ChunkTask:
    chunk: Chunk
    source: str  # how errors name the input file
    period: Period
    as_of: date
    work: Path


@dataclass
class ChunkDone:
    number: int
    size: int
    episodes: int = 0
    claims: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=lambda: {"parse": 0.0, "bill": 0.0, "write": 0.0})


@dataclass
class RowsBilled:
    """Each good row's claims (with its line number), each bad row's error, and where time went."""

    billed: list[tuple[int, list[Claim]]] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=lambda: {"parse": 0.0, "bill": 0.0, "write": 0.0})


def bill_rows(
    rows: Iterable[tuple[int, str]], setup: Setup, period: Period, as_of: date, source: str
) -> RowsBilled:
    """Bill (line number, episode text) rows: the one loop the local pool and Spark both run, so
    that their errors and claims are the same."""
    done = RowsBilled()
    clock = time.perf_counter
    for line, text in rows:
        name = f"{source}:{line}"
        started = clock()
        try:
            episode = parse_episode(name, text, setup.catalog)
            parsed = clock()
            done.seconds["parse"] += parsed - started
            done.billed.append((line, bill_one(name, episode, setup, period, as_of)))
            done.seconds["bill"] += clock() - parsed
        except InputError as exc:
            done.errors.append((line, str(exc)))
        except Exception as exc:  # one episode the engine cannot bill never stops the others
            done.errors.append((line, f"{name}: internal error {type(exc).__name__}; episode not billed"))
    return done


def sendable_x12(claim: Claim, as_of: date, provider: Provider) -> str:
    """A ready claim as the 837 step reads it back: its id and its transaction set, rendered here
    where it was billed, as one JSON line. The 837 step only wraps such bodies in envelopes."""
    envelope = envelope_for([claim.claim_id], provider.sender_id, provider.receiver.id, as_of)
    return json.dumps([claim.claim_id, rendered_transaction(claim, envelope, provider.receiver.name)])


def bill_chunk(task: ChunkTask) -> ChunkDone:
    chunk = task.chunk
    rows = bill_rows(chunk.rows, _the_setup(), task.period, task.as_of, str(task.source))
    claims = [claim for _, billed in rows.billed for claim in billed]
    started = time.perf_counter()
    _write_chunk(task, claims)
    rows.seconds["write"] += time.perf_counter() - started
    done = ChunkDone(chunk.number, chunk.size, episodes=len(chunk.rows), claims=len(claims))
    done.errors, done.seconds = rows.errors, rows.seconds
    return done


def _write_chunk(task: ChunkTask, claims: list[Claim]) -> None:
    name = f"{task.chunk.number:07d}"
    for table, content in claim_tables(claims).items():
        pq.write_table(content, task.work / table / f"{name}.parquet", compression="zstd")
    ready: dict[str, list[str]] = defaultdict(list)
    for claim in claims:
        if claim.status == "ready":
            ready[claim.payer_id].append(sendable_x12(claim, task.as_of, _the_setup().provider))
    for payer, lines in ready.items():
        folder = task.work / "837" / payer
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{name}.ndjson").write_text("\n".join(lines) + "\n", "utf-8")


@dataclass(frozen=True)
class X12Task:
    path: Path
    claims: list[str]  # as `sendable_x12` spilled them
    as_of: date


def write_x12(task: X12Task) -> Path:
    """One 837 interchange of a payer's ready claims; returns the file written."""
    provider = _the_setup().provider
    spilled = [json.loads(text) for text in task.claims]
    envelope = envelope_for([i for i, _ in spilled], provider.sender_id, provider.receiver.id, task.as_of)
    task.path.write_bytes(write_rendered_837(envelope, [body for _, body in spilled]).encode())
    return task.path
