"""Reading files at the edge: episodes, payer policies and the provider, with plain errors.

Unusable input is not a finding: it stops that file with one message naming the file, the record
and the field (SPEC "Unusable input"). Messages carry record ids and field names, never the
values of personal fields, so they are safe to log. Input is bounded before it is parsed
(`MAX_INPUT_BYTES`), and refusing it costs time linear in its size.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Final, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from hitclaims.core.catalog import Catalog
from hitclaims.core.days import Period
from hitclaims.core.errors import InputError, UnusableInputError
from hitclaims.core.policy import PayerPolicy
from hitclaims.core.policy import catalog_problems as policy_problems
from hitclaims.core.provider import Provider
from hitclaims.core.records import Episode, Problem, episode_problems

M = TypeVar("M", bound=BaseModel)

# The most one input may be: an episode file or upload, a FHIR Bundle, a request body. The web
# upload, the API and the command line all apply this one limit.
MAX_INPUT_BYTES: Final = 5 * 1024 * 1024
_TOO_LARGE: Final = f"is larger than {MAX_INPUT_BYTES // (1024 * 1024)} MB, the most one input may be"
# Errors whose message describes the value itself: it is never echoed, whatever the field.
_NO_ECHO: Final = frozenset({"x12_text"})

# Fields whose values are personal: an error about them names the field, never the value.
_PERSONAL = {
    "first_name",
    "last_name",
    "birth_date",
    "line1",
    "line2",
    "city",
    "state",
    "zip",
    "member_id",
    "text",
    "note",
    "author",
    "alternatives_tried",
    "alternatives_outcome",
    "medical_history",
    "home_infusion_reason",
    "group_number",
}


def _is_union_tag(part: object) -> bool:
    # Pydantic names the member of a union it tried ('list[PriorAuthorization]', 'constrained-str');
    # a biller needs the field, not the type theory.
    return isinstance(part, str) and (part[:1].isupper() or "[" in part or "-" in part)


def _split_loc(loc: Sequence[int | str]) -> tuple[str | None, str | None]:
    parts = [p for p in loc if not _is_union_tag(p)]
    field: str | None = None
    if parts and isinstance(parts[-1], str):
        field = parts[-1]
        parts = parts[:-1]
    record = ""
    for part in parts:
        record += f"[{part}]" if isinstance(part, int) else (f".{part}" if record else part)
    return record or None, field


def _plain(error: ErrorDetails, field: str | None) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown field (not part of the format; `hitclaims schema` prints the format)"
    if kind == "missing":
        return "is required and missing"
    message = str(error["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    if field not in _PERSONAL and kind not in ("model_type", "dict_type", *_NO_ECHO) and "input" in error:
        value = error["input"]
        if isinstance(value, str | int | float | bool) and len(str(value)) <= 40:
            message += f" (got {json.dumps(value)})"
    return message[:1].lower() + message[1:]


_WRONG_TYPE: Final = frozenset({"list_type", "model_type", "dict_type", "string_type"})


def _relevant(errors: list[ErrorDetails]) -> list[ErrorDetails]:
    """Drop 'wrong type' errors of union members that were not what the sender meant: those
    with an error deeper inside the same place (the member the sender did write).

    One pass to find the places of 'wrong type' errors, one to note the deepest error inside
    each, one to filter: linear in the errors, so 16,000 unknown keys are refused as fast as one.
    """
    places = [tuple(p for p in error["loc"] if not _is_union_tag(p)) for error in errors]
    wrong_type = {place for error, place in zip(errors, places, strict=True) if error["type"] in _WRONG_TYPE}
    if not wrong_type:
        return errors
    deepest: dict[tuple[int | str, ...], int] = {}
    for error, place in zip(errors, places, strict=True):
        for end in range(len(place) + 1):
            prefix = place[:end]
            if prefix in wrong_type:
                deepest[prefix] = max(deepest.get(prefix, 0), len(error["loc"]))
    kept = [
        error
        for error, place in zip(errors, places, strict=True)
        if not (error["type"] in _WRONG_TYPE and deepest[place] > len(error["loc"]))
    ]
    return kept or errors


def _describe_record(raw: object, record: str | None) -> str | None:
    """Add the record's id (or date) to 'orders[2]' so a biller can find it in the source."""
    if record is None or not isinstance(raw, dict):
        return record
    node: object = raw
    for token in record.replace("]", "").replace("[", ".").split("."):
        if isinstance(node, dict):
            node = node.get(token)
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return record
    if isinstance(node, dict):
        for key in ("id", "number", "date", "at", "start"):
            if isinstance(node.get(key), str):
                return f"{record} ({key} {node[key]})"
    return record


def validation_error(file: str, exc: ValidationError, raw: object) -> InputError:
    """The first relevant error in words, and how many more there are."""
    errors = _relevant(exc.errors(include_url=False, include_context=False))
    first = errors[0]
    record, field = _split_loc(first["loc"])
    return InputError(file, _describe_record(raw, record), field, _plain(first, field), len(errors) - 1)


def _json(file: str, text: str) -> object:
    if len(text) > MAX_INPUT_BYTES:  # characters: each is at least one byte
        raise InputError(file, None, None, _TOO_LARGE)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            file, None, None, f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    except ValueError:  # an integer of more than 4,300 digits
        raise InputError(file, None, None, "not usable JSON: a number is far too long") from None
    except RecursionError:
        raise InputError(file, None, None, "not usable JSON: nested too deeply") from None


def is_fhir_bundle(text: str) -> bool:
    """True when the JSON text is an object with resourceType 'Bundle' (an episode never is)."""
    if len(text) > MAX_INPUT_BYTES:  # refused unparsed, as an episode
        return False
    try:
        raw = json.loads(text)
    except (ValueError, RecursionError):
        return False
    return isinstance(raw, dict) and raw.get("resourceType") == "Bundle"


def parse_episode(file: str, text: str, catalog: Catalog) -> Episode:
    """Episode JSON text to a checked Episode, or an InputError naming what is wrong."""
    if len(text) > MAX_INPUT_BYTES:  # characters: each is at least one byte
        raise InputError(file, None, None, _TOO_LARGE)
    # The text is parsed once; the plain JSON reading, which names what is wrong, is made only
    # for an episode that is refused. Whatever Pydantic's parser accepts, `json` accepts too.
    try:
        episode = Episode.model_validate_json(text)
    except ValidationError as exc:
        raise validation_error(file, exc, _json_object(file, text)) from None
    problems = episode_problems(episode) + catalog_problems(episode, catalog)
    if problems:
        first = problems[0]
        raw = _json_object(file, text)
        raise InputError(
            file, _describe_record(raw, first.record), first.field, first.problem, len(problems) - 1
        )
    return episode


def _json_object(file: str, text: str) -> dict[str, Any]:
    raw = _json(file, text)
    if not isinstance(raw, dict):
        raise InputError(file, None, None, "an episode is a JSON object")
    return raw


def catalog_problems(episode: Episode, catalog: Catalog) -> list[Problem]:
    problems: list[Problem] = []
    known = ", ".join(sorted(catalog.drugs))
    for i, order in enumerate(episode.orders):
        for drug in order.drugs:
            if drug not in catalog.drugs:
                problems.append(Problem(f"orders[{i}]", "drug", f"unknown drug {drug!r} (known: {known})"))
    for i, dispense in enumerate(episode.dispenses):
        if dispense.drug not in catalog.drugs:
            problems.append(
                Problem(f"dispenses[{i}]", "drug", f"unknown drug {dispense.drug!r} (known: {known})")
            )
    for i, other in enumerate(episode.concurrent_therapies):
        if other.code not in catalog.per_diem:
            problems.append(
                Problem(
                    f"concurrent_therapies[{i}]",
                    "code",
                    f"{other.code} is not a home infusion per-diem code in the catalog",
                )
            )
    return problems


def read_episode(path: Path, catalog: Catalog) -> Episode:
    return parse_episode(str(path), read_text(path), catalog)


def read_text(path: Path | Traversable) -> str:
    """A file's UTF-8 text, refused unread past `MAX_INPUT_BYTES`."""
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_INPUT_BYTES + 1)
        if len(data) > MAX_INPUT_BYTES:
            raise InputError(str(path), None, None, _TOO_LARGE)
        return data.decode("utf-8")
    except FileNotFoundError:
        raise InputError(str(path), None, None, "no such file") from None
    except IsADirectoryError:
        raise InputError(str(path), None, None, "is a folder, not a file") from None
    except UnicodeDecodeError:
        raise InputError(str(path), None, None, "is not UTF-8 text") from None
    except OSError as exc:
        raise InputError(str(path), None, None, f"cannot be read ({exc.strerror})") from None


def _yaml(file: str, text: str) -> object:
    try:
        return yaml.safe_load(text)
    except RecursionError:
        raise InputError(file, None, None, "not usable YAML: nested too deeply") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise InputError(file, None, None, f"not valid YAML{where}") from None


def _model_from_yaml(file: str, text: str, model: type[M]) -> M:
    raw = _yaml(file, text)
    if not isinstance(raw, dict):
        raise InputError(file, None, None, "expected a YAML mapping of settings")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise validation_error(file, exc, raw) from None


# --- payer policies ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyBook:
    """The payer policies at hand, by payer id; a payer may have versions by effective date."""

    policies: dict[str, tuple[tuple[str, PayerPolicy], ...]]  # id -> ((file, policy), ...)

    def for_payer(self, payer_id: str, on: date) -> PayerPolicy:
        """The payer's policy in force on the day; UnusableInputError naming `payer_id` if none."""
        versions = self.policies.get(payer_id)
        if not versions:
            known = ", ".join(sorted(self.policies)) or "none"
            raise UnusableInputError(
                f"no payer policy for payer {payer_id!r} (policies at hand: {known})", "payer_id"
            )
        for _, policy in versions:
            if policy.effective.covers(on):
                return policy
        raise UnusableInputError(f"no policy of payer {payer_id!r} is in force on {on}", "payer_id")

    def __len__(self) -> int:
        return len(self.policies)


def parse_policy(file: str, text: str, catalog: Catalog) -> PayerPolicy:
    policy = _model_from_yaml(file, text, PayerPolicy)
    for rule in policy.severity_overrides:
        if rule not in catalog.rules:
            raise InputError(file, "severity_overrides", rule, "unknown rule id")
    for problem in policy_problems(policy, catalog):
        raise InputError(file, None, problem.field, problem.problem)
    return policy


def policy_files(folder: Path | Traversable) -> list[Path | Traversable]:
    return sorted(
        (f for f in folder.iterdir() if f.name.endswith((".yaml", ".yml")) and f.is_file()),
        key=lambda f: f.name,
    )


def bundled_policy_folders() -> list[Traversable]:
    root = resources.files("hitclaims")
    return [root / "policies", root / "examples" / "policies"]


def load_policies(folders: Sequence[Path | Traversable], catalog: Catalog) -> PolicyBook:
    found: list[tuple[str, PayerPolicy]] = []
    for folder in folders:
        if not folder.is_dir():
            raise InputError(str(folder), None, None, "no such folder of payer policies")
        found.extend((str(f), parse_policy(str(f), read_text(f), catalog)) for f in policy_files(folder))
    return book_of(found)


def book_of(policies: Iterable[tuple[str, PayerPolicy]]) -> PolicyBook:
    """The policies by payer, refusing two of one payer in force on the same day (DOMAIN §9):
    the same check whether the files come from a folder or from the server's database."""
    found: dict[str, list[tuple[str, PayerPolicy]]] = {}
    for name, policy in policies:
        for other_file, other in found.get(policy.id, []):
            if _overlap(policy, other):
                raise InputError(
                    name,
                    None,
                    "effective",
                    f"payer {policy.id!r} already has a policy in force on these dates ({other_file})",
                )
        found.setdefault(policy.id, []).append((name, policy))
    return PolicyBook({k: tuple(sorted(v, key=lambda fp: fp[1].effective.from_)) for k, v in found.items()})


def _overlap(a: PayerPolicy, b: PayerPolicy) -> bool:
    a_end = a.effective.to or date.max
    b_end = b.effective.to or date.max
    return a.effective.from_ <= b_end and b.effective.from_ <= a_end


# --- the provider -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Example:
    """A bundled example episode with the period and submission date its expectation names."""

    name: str
    episode_id: str
    text: str
    period: Period
    as_of: date


def bundled_examples() -> list[Example]:
    folder = resources.files("hitclaims") / "examples"
    found = []
    for expected in sorted(folder.iterdir(), key=lambda f: f.name):
        if not expected.name.endswith(".expected.json"):
            continue
        meta = json.loads(expected.read_text("utf-8"))
        episode = folder / expected.name.replace(".expected.json", ".json")
        text = episode.read_text("utf-8")
        first, last = (date.fromisoformat(d) for d in meta["period"])
        episode_id = str(json.loads(text)["episode_id"])
        found.append(
            Example(episode.name, episode_id, text, Period(first, last), date.fromisoformat(meta["as_of"]))
        )
    return found


def bundled_provider_file() -> Traversable:
    return resources.files("hitclaims") / "examples" / "provider.yaml"


def load_provider(path: Path | Traversable) -> Provider:
    return _model_from_yaml(str(path), read_text(path), Provider)
