"""The API under load: latency of billing one episode and of reading a claim with 20 concurrent
clients (median and 99th percentile), and the time of a billing run over 1,000 episodes.

Run: `.venv/bin/python bench/bench_api.py [--database sqlite|postgresql]`. It starts a real
`hitclaims serve` process on 127.0.0.1 (one uvicorn worker) on a fresh database, loads copies of
example 1 as distinct patients, and drives it over HTTP with httpx. Loopback only; bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hitclaims.inputs.loading import parse_episode  # noqa: E402
from hitclaims.store.episodes import import_episode  # noqa: E402
from hitclaims.store.users import create_user  # noqa: E402

PASSWORD = "benchmark password"
MARCH = {"from": "2025-03-01", "to": "2025-03-31", "as_of": "2025-04-02"}
APRIL = {"from": "2025-04-01", "to": "2025-04-30", "as_of": "2025-05-02"}


@contextlib.contextmanager
def database(kind: str) -> Iterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/bench.db"
        return
    from tests.databases import fresh_database, postgres_cluster

    with postgres_cluster() as server, fresh_database(server) as url:
        yield url


def load(url: str, episodes: int) -> None:
    from tests.databases import open_workplace

    place = open_workplace(url)
    source = json.loads((ROOT / "examples" / "ex1-morphine-cancer.json").read_text())
    # April needs notes too, so the run over 1,000 episodes bills real claims, not held ones.
    notes = source["progress_notes"]
    source["progress_notes"] = notes + [dict(notes[0], date=f"2025-04-{d:02d}") for d in range(1, 31)]
    with place.factory() as db, db.begin():
        create_user(db, "bench", PASSWORD, "biller", "bench")
        for i in range(episodes):
            data = dict(source, episode_id=f"BENCH-{i:05d}", patient=dict(source["patient"], id=f"P-{i:05d}"))
            import_episode(db, parse_episode("bench", json.dumps(data), place.catalog), "json", [], "bench")
    place.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def server(url: str) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "hitclaims", "serve", "--port", str(port), "--database", url],
        stdout=subprocess.DEVNULL,
        stderr=open(os.environ.get("BENCH_SERVER_LOG", os.devnull), "w"),  # noqa: SIM115
        env={**os.environ, "HITCLAIMS_PROVIDER": str(ROOT / "examples" / "provider.yaml")},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                    break
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


Request = tuple[str, str, dict[str, object] | None]


async def measure(base: str, token: str, requests: Sequence[Request], clients: int) -> list[float]:
    queue: asyncio.Queue[Request] = asyncio.Queue()
    for item in requests:
        queue.put_nowait(item)
    latencies: list[float] = []
    headers = {"Authorization": f"Bearer {token}"}

    async def client() -> None:
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=120) as http:
            while not queue.empty():
                method, path, body = queue.get_nowait()
                start = time.perf_counter()
                answer = await http.request(method, path, json=body)
                latencies.append(time.perf_counter() - start)
                if answer.status_code >= 400:
                    raise RuntimeError(f"{method} {path}: {answer.status_code} {answer.text[:200]}")

    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies


def show(label: str, latencies: list[float]) -> None:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    print(
        f"  {label}: {len(ordered)} requests, median {1000 * statistics.median(ordered):.1f} ms,"
        f" p99 {1000 * p99:.1f} ms, max {1000 * ordered[-1]:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--episodes", type=int, default=1000)
    parser.add_argument("--bill-requests", type=int, default=200)
    parser.add_argument("--read-requests", type=int, default=1000)
    args = parser.parse_args()

    with database(args.database) as url:
        start = time.perf_counter()
        load(url, args.episodes)
        print(f"{args.database}: loaded {args.episodes} episodes in {time.perf_counter() - start:.1f} s")
        with server(url) as base:
            token = httpx.post(
                f"{base}/api/session", json={"username": "bench", "password": PASSWORD}
            ).json()["token"]
            bills = [
                ("POST", "/api/runs", {**MARCH, "episodes": [f"BENCH-{i:05d}"], "wait": True})
                for i in range(args.bill_requests)
            ]
            show(
                f"bill one episode, {args.clients} clients",
                asyncio.run(measure(base, token, bills, args.clients)),
            )
            claims = httpx.get(
                f"{base}/api/claims", params={"limit": 1000}, headers={"Authorization": f"Bearer {token}"}
            ).json()
            ids = [c["id"] for c in claims]
            reads = [("GET", f"/api/claims/{ids[i % len(ids)]}", None) for i in range(args.read_requests)]
            show(
                f"read a claim, {args.clients} clients",
                asyncio.run(measure(base, token, reads, args.clients)),
            )
            start = time.perf_counter()
            answer = httpx.post(
                f"{base}/api/runs",
                json={**APRIL, "wait": True},
                headers={"Authorization": f"Bearer {token}"},
                timeout=3600,
            )
            elapsed = time.perf_counter() - start
            summary = answer.json()["summary"]
            print(
                f"  billing run over {args.episodes} episodes (April): {elapsed:.1f} s"
                f" ({args.episodes / elapsed:.0f} episodes/s);"
                f" created {summary['created']}, failed {summary['failed']}"
            )


if __name__ == "__main__":
    main()
