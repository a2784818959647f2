"""Bounded fuzzing of every door an episode comes in by: the bundled examples, as episode JSON and
as FHIR Bundles, with fields deleted, types changed, extreme numbers and dates, huge arrays and
odd unicode, through `hitclaims bill`, `hitclaims import-fhir` and the API (import, then a
billing run, the ledger and each ready claim's 837).

Whatever the input, the answer is a plain one: exit code 0 or 2, no traceback, no 500, no
personal value of the input quoted in an error, and no ready claim whose 837 pyx12 rejects.
scripts/fuzz_long.py runs the same checks for longer and counts the outcomes.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from hitclaims.cli import app as cli
from hitclaims.formats.fhir.episode_out import episode_to_bundle
from hitclaims.formats.x12.validate import validate_x12
from hitclaims.inputs.loading import Example, bundled_examples, parse_episode
from hitclaims.server import MAX_BODY_BYTES, create_app
from hitclaims.services.runs import EPISODE_FAILED
from hitclaims.services.workplace import Workplace
from hitclaims.store.users import create_user, open_session

from .builders import CATALOG
from .databases import open_workplace

runner = CliRunner()
_FOLDER = Path(tempfile.mkdtemp(prefix="hitclaims-fuzz-"))
EXAMPLES = bundled_examples()
# What the whole fuzzer may take in CI: three tests, on a busy two-core machine well under 2 min.
EXAMPLES_PER_TEST = 30
FUZZ = settings(
    max_examples=EXAMPLES_PER_TEST,
    deadline=None,
    database=None,  # the same inputs on every run: CI must not depend on a local example store
    derandomize=True,
    # No shrinking: a failing input is saved whole instead, and CI's time stays bounded.
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)

# --- the inputs ----------------------------------------------------------------------------


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict | list):
        for value in node.values() if isinstance(node, dict) else node:
            yield from _strings(value)


def _personal(episode: dict[str, Any]) -> list[str]:
    """The input's personal values that no error may quote. Short ones would match by chance, and
    one inside a value that is not personal is no leak (the city "Denver" in "America/Denver")."""
    patient, coverage = episode.get("patient", {}), episode.get("coverage", {})
    values = [
        patient.get("first_name"),
        patient.get("last_name"),
        patient.get("birth_date"),
        *patient.get("address", {}).values(),
        coverage.get("member_id"),
        coverage.get("group_number"),
    ]
    personal = {v for v in values if isinstance(v, str) and len(v) >= 4}
    others = [s for s in _strings(episode) if s not in personal]
    return sorted(v for v in personal if not any(v in other for other in others))


@dataclass(frozen=True)
class Base:
    """One example as a JSON tree (an episode or its FHIR Bundle) and what it must not leak."""

    example: Example
    document: Any
    personal: list[str]

    def __repr__(self) -> str:  # Hypothesis shows strategies by their arguments: keep it short
        return f"Base({self.example.name})"


def _bases() -> tuple[list[Base], list[Base]]:
    episodes, bundles = [], []
    for example in EXAMPLES:
        document = json.loads(example.text)
        personal = _personal(document)
        episodes.append(Base(example, document, personal))
        bundle = episode_to_bundle(parse_episode(example.name, example.text, CATALOG))
        bundles.append(Base(example, bundle, personal))
    return episodes, bundles


EPISODES, BUNDLES = _bases()

# Numbers written as raw JSON literals: past float range, past Decimal's exponent, huge integers.
RAW_NUMBERS = [
    "1e-1000000",
    "1e1000000",
    "1e400",
    "-1e308",
    "123456789012345678901234567890",
    "0.12345678901234567890123",
    "-0",
    "99999999999",
    "NaN",
    "Infinity",
    "1E+5",
]
DATES = [
    "9999-12-31T23:59:59-12:00",
    "0001-01-01T00:00:00+14:00",
    "0001-01-01",
    "9999-12-31",
    "2199-12-31",
    "1899-12-31",
    "2025-02-29",
    "2024-02-29",
    "2025-03-09T02:30:00-06:00",
    "2025-11-02T01:30:00-05:00",
    "2025-13-01",
    "2025-03-01T24:00:00-06:00",
    "2025-03-01T00:00:00",
    "2025-03-01T00:00:00Z",
    "20250301",
]
STRINGS = [
    "",
    " ",
    "\u202eevil",
    "Zoë Ñúñez",
    "李小龍",
    "🙂",
    "\u0000",
    "\ud800",
    "e\u0301",
    "\ufeff",
    "１２３",
    "~*:^>\n\r",  # the X12 delimiters
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "A" * 81,
    "x" * 100_000,
    "America/" + "A" * 400,
]
OTHER_TYPES: list[Any] = [None, True, 0, -1, 2**63, 1.5, "", "x", [], {}, [None], {"": None}]
# "alike" keeps the value's kind (a date for a date, a number for a number), so that the input
# passes the parser more often and the billing behind it is reached.
MUTATIONS = [
    "alike",
    "alike",
    "alike",
    "alike",
    "alike",
    "delete",
    "type",
    "number",
    "date",
    "string",
    "append",
    "huge",
    "key",
]
# Just past the body limit: the limit's own answer is fuzzed too, a 300 MB input is not.
MAX_FUZZ_BYTES = MAX_BODY_BYTES + 1024 * 1024
# How many unknown keys a "huge" object gets (bench/fuzz_long.py also tries 16,000: issue 8, item 3).
UNKNOWN_KEYS = [300, 1500]
_DATE_LIKE = re.compile(r"\d{4}-\d\d-\d\d")


@dataclass(frozen=True)
class Raw:
    """A JSON literal written as is (json.dumps cannot write 1e-1000000 or a 30-digit float)."""

    literal: str


def _paths(node: Any, here: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*here, key)
            yield from _paths(value, (*here, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield (*here, index)
            yield from _paths(value, (*here, index))


def _parent(document: Any, path: tuple[Any, ...]) -> Any:
    for step in path[:-1]:
        document = document[step]
    return document


def _alike(draw: st.DrawFn, old: Any) -> Any:
    if isinstance(old, bool) or old is None:
        return draw(st.sampled_from(OTHER_TYPES))
    if isinstance(old, int | float):
        return Raw(draw(st.sampled_from(RAW_NUMBERS)))
    if isinstance(old, str) and _DATE_LIKE.match(old):
        return draw(st.sampled_from(DATES))
    if isinstance(old, str):
        number = re.match(r"[\d.]+", old)  # a dose or rate such as "2 mg/h"
        if number and draw(st.booleans()):
            return old.replace(number.group(), draw(st.sampled_from(RAW_NUMBERS)), 1)
        return f"{old}{draw(st.sampled_from(STRINGS[2:14]))}"
    return _replacement(draw, "huge", old)


def _replacement(draw: st.DrawFn, kind: str, old: Any) -> Any:
    if kind == "alike":
        return _alike(draw, old)
    if kind == "type":
        return draw(st.sampled_from(OTHER_TYPES))
    if kind == "number":
        return Raw(draw(st.sampled_from(RAW_NUMBERS)))
    if kind == "date":
        return draw(st.sampled_from(DATES))
    if kind == "string":
        return draw(st.sampled_from(STRINGS))
    if kind == "append":
        return f"{old}{draw(st.sampled_from(STRINGS[2:14]))}" if isinstance(old, str) else old
    # huge: an array of many copies of its first element, a string of 100,000 characters.
    if isinstance(old, list) and old:
        return old[:1] * draw(st.sampled_from([300, 3000]))
    if isinstance(old, dict):
        return {**old, **{f"unknown{i}": i for i in range(draw(st.sampled_from(UNKNOWN_KEYS)))}}
    return "y" * 100_000


def _mutate_once(draw: st.DrawFn, document: Any) -> Any:
    paths = list(_paths(document))
    if not paths:
        return draw(st.sampled_from(OTHER_TYPES))
    path = draw(st.sampled_from(paths))
    kind = draw(st.sampled_from(MUTATIONS))
    parent = _parent(document, path)
    if kind == "delete":
        del parent[path[-1]]
    elif kind == "key" and isinstance(parent[path[-1]], dict):
        parent[path[-1]][draw(st.sampled_from(["extra", "id", "", "\u202e"]))] = draw(
            st.sampled_from(OTHER_TYPES)
        )
    else:
        parent[path[-1]] = _replacement(draw, kind, parent[path[-1]])
    return document


def render(document: Any, ascii_only: bool = True) -> bytes:
    """JSON text with the raw literals in place; sometimes ASCII-escaped, sometimes UTF-8 (a lone
    surrogate then makes bytes that are not UTF-8, as a broken file would)."""
    raws: list[str] = []

    def literal(value: Any) -> Any:
        if isinstance(value, Raw):
            raws.append(value.literal)
            return f"\u0001RAW{len(raws) - 1}\u0001"
        raise TypeError(type(value).__name__)

    text = json.dumps(document, default=literal, ensure_ascii=ascii_only)
    for index, raw in enumerate(raws):
        text = text.replace(json.dumps(f"\u0001RAW{index}\u0001"), raw)
    return text.encode("utf-8", "surrogatepass")


@dataclass(frozen=True)
class Case:
    """One mutated input; shown by its example and size (its bytes are saved when it fails)."""

    base: Base
    content: bytes

    def __repr__(self) -> str:
        return f"Case({self.base.example.name}, {len(self.content):,} bytes)"

    def saved(self) -> Path:
        path = _FOLDER / f"failing-{hashlib.sha256(self.content).hexdigest()[:12]}.json"
        path.write_bytes(self.content)
        return path


@st.composite
def mutated(draw: st.DrawFn, bases: list[Base]) -> Case:
    base = draw(st.sampled_from(bases))
    document = copy.deepcopy(base.document)
    for _ in range(draw(st.integers(1, 2))):
        document = _mutate_once(draw, document)
    content = render(document, draw(st.booleans()))
    assume(len(content) <= MAX_FUZZ_BYTES)
    return Case(base, content)


# --- the checks ----------------------------------------------------------------------------


@dataclass
class Outcome:
    """What one input did at one door: its exit code or HTTP status, every broken rule, and its
    slowest command or request (the checks' own work, such as pyx12, not counted)."""

    code: int
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0


INTERNAL_MARKS = ("Traceback", "internal error", "unexpectedly")


def _leaks(text: str, base: Base) -> list[str]:
    return [f"quotes a personal value ({len(v)} characters)" for v in base.personal if v in text]


def _invalid_837(content: str) -> list[str]:
    report = validate_x12(content)
    return [] if report.valid else [f"ready claim's 837 rejected: {p.sentence()}" for p in report.problems]


def _period_args(example: Example) -> list[str]:
    first, last = example.period.start, example.period.end
    return ["--from", str(first), "--to", str(last), "--as-of", str(example.as_of)]


def check_bill(base: Base, content: bytes, folder: Path) -> Outcome:
    """`hitclaims bill` of one file with --out: exit 0 or 2, a plain stderr, a valid 837."""
    source, out = folder / "episode.json", folder / "out"
    source.write_bytes(content)
    started = time.perf_counter()
    result = runner.invoke(cli, ["bill", str(source), *_period_args(base.example), "--out", str(out)])
    outcome = Outcome(result.exit_code, seconds=time.perf_counter() - started)
    if result.exit_code not in (0, 2):
        outcome.problems.append(f"exit code {result.exit_code}")
    said = result.stdout + result.stderr
    outcome.problems += [f"says {mark!r}" for mark in INTERNAL_MARKS if mark in said]
    outcome.problems += _leaks(result.stderr, base)
    x12 = out / "claims.837"
    if x12.exists():
        outcome.problems += _invalid_837(x12.read_text())
    return outcome


def check_import_fhir(base: Base, content: bytes, folder: Path) -> Outcome:
    """`hitclaims import-fhir`: exit 0 or 2, nothing personal in what it says on stderr."""
    source = folder / "bundle.json"
    source.write_bytes(content)
    started = time.perf_counter()
    result = runner.invoke(cli, ["import-fhir", str(source)])
    outcome = Outcome(result.exit_code, seconds=time.perf_counter() - started)
    if result.exit_code not in (0, 2):
        outcome.problems.append(f"exit code {result.exit_code}")
    said = result.stdout + result.stderr
    outcome.problems += [f"says {mark!r}" for mark in INTERNAL_MARKS if mark in said]
    outcome.problems += _leaks(result.stderr, base)
    return outcome


def api_client(folder: Path) -> tuple[TestClient, Workplace]:
    place = open_workplace(f"sqlite:///{folder / 'fuzz.db'}")
    with place.changing() as db:
        token = open_session(db, create_user(db, "fuzz", "fuzzing passphrase", "admin", "setup"))
    client = TestClient(create_app(place), raise_server_exceptions=False)
    client.headers["Authorization"] = f"Bearer {token}"
    return client, place


def _answered(outcome: Outcome, what: str, response: httpx.Response, base: Base) -> bool:
    """Records a 500 or a leak; True when the answer is a success."""
    if response.status_code >= 500:
        outcome.problems.append(f"{what}: {response.status_code}")
    elif response.status_code >= 400:
        outcome.problems += [f"{what}: {leak}" for leak in _leaks(response.text, base)]
    return response.status_code < 300


def _request(outcome: Outcome, client: TestClient, method: str, url: str, **how: Any) -> httpx.Response:
    started = time.perf_counter()
    response: httpx.Response = client.request(method, url, **how)
    outcome.seconds = max(outcome.seconds, time.perf_counter() - started)
    return response


def check_api(client: TestClient, base: Base, content: bytes) -> Outcome:
    """POST /api/episodes, then a billing run of it, its ledger and each ready claim's 837."""
    outcome = Outcome(0)
    headers = {"Content-Type": "application/json"}
    imported = _request(outcome, client, "POST", "/api/episodes", content=content, headers=headers)
    outcome.code = imported.status_code
    if not _answered(outcome, "import", imported, base):
        return outcome
    episode_id = imported.json()["episode_id"]
    period = {"from": str(base.example.period.start), "to": str(base.example.period.end)}
    asked = {**period, "as_of": str(base.example.as_of), "episodes": [episode_id], "wait": True}
    run = _request(outcome, client, "POST", "/api/runs", json=asked)
    if not _answered(outcome, "run", run, base):
        return outcome
    for billed in run.json()["summary"]["episodes"]:
        if billed["message"] == EPISODE_FAILED:
            outcome.problems.append("run: the episode failed with an internal error")
    ledger = _request(outcome, client, "GET", f"/api/episodes/{episode_id}/ledger", params=period)
    _answered(outcome, "ledger", ledger, base)
    where = {"episode_id": episode_id, "status": "ready"}
    ready = _request(outcome, client, "GET", "/api/claims", params=where)
    if _answered(outcome, "claims", ready, base):
        for claim in ready.json():
            x12 = _request(outcome, client, "GET", f"/api/claims/{claim['id']}/837")
            if _answered(outcome, "837", x12, base):
                outcome.problems += _invalid_837(x12.text)
    return outcome


# --- the tests -----------------------------------------------------------------------------

_CLIENT: list[tuple[TestClient, Workplace]] = []


def _shared_client() -> TestClient:
    if not _CLIENT:  # one workplace for all API examples: earlier inputs stay in the store
        _CLIENT.append(api_client(_FOLDER))
    return _CLIENT[0][0]


def _plain(case: Case, *outcomes: Outcome) -> None:
    problems = [p for outcome in outcomes for p in outcome.problems]
    assert not problems, f"{case!r} saved as {case.saved()}: {problems}"


@FUZZ
@given(mutated(EPISODES))
def test_bill_answers_any_mutated_episode_plainly_and_writes_only_valid_837s(case: Case) -> None:
    with tempfile.TemporaryDirectory(dir=_FOLDER) as folder:
        _plain(case, check_bill(case.base, case.content, Path(folder)))


@FUZZ
@given(mutated(BUNDLES))
def test_import_fhir_and_bill_answer_any_mutated_bundle_plainly(case: Case) -> None:
    with tempfile.TemporaryDirectory(dir=_FOLDER) as folder:
        imported = check_import_fhir(case.base, case.content, Path(folder))
        _plain(case, imported, check_bill(case.base, case.content, Path(folder)))


@FUZZ
@given(mutated(EPISODES + BUNDLES))
def test_the_api_answers_any_mutated_episode_or_bundle_without_a_500(case: Case) -> None:
    _plain(case, check_api(_shared_client(), case.base, case.content))


def test_the_fuzzer_reaches_billing_not_only_the_parser() -> None:
    # Unchanged examples bill: the checks above see ready claims, not only refusals.
    with tempfile.TemporaryDirectory(dir=_FOLDER) as folder:
        assert check_bill(EPISODES[0], render(EPISODES[0].document), Path(folder)).code == 0
    outcome = check_api(_shared_client(), BUNDLES[1], render(BUNDLES[1].document))
    assert (outcome.code, outcome.problems) == (201, [])
