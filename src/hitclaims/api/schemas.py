"""The REST API's request and response documents. Money travels as a pattern-checked string."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StrictBool,
    StringConstraints,
    WithJsonSchema,
)

from hitclaims.core.vocabulary import ClaimStatus, DayStatus, Role, RunStatus, WorkKind
from hitclaims.services.users import MAX_PASSWORD, MIN_PASSWORD, USERNAME_PATTERN

Money = Annotated[
    Decimal,
    PlainSerializer(lambda v: f"{v:.2f}", return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^-?\d+\.\d{2}$", "examples": ["7250.00"]}),
]


def _iso_date(value: object) -> object:
    # Pydantic would read 0 or "0" as 1970-01-01 (a Unix time): a billing date is written out.
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        return value
    if isinstance(value, date):
        return value
    raise ValueError("a date is written YYYY-MM-DD")


IsoDate = Annotated[
    date,
    BeforeValidator(_iso_date),
    WithJsonSchema({"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}),
]
Username = Annotated[str, StringConstraints(pattern=USERNAME_PATTERN)]
Password = Annotated[str, StringConstraints(min_length=MIN_PASSWORD, max_length=MAX_PASSWORD)]
EpisodeKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,29}$")]


class Doc(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Problem(Doc):
    """Every 4xx answer: one plain sentence, and the field when one is to blame."""

    detail: str
    field: str | None = None


class SignIn(Doc):
    username: Annotated[str, StringConstraints(min_length=1, max_length=60)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class PasswordChange(Doc):
    """Your own new password, with the current one."""

    current_password: Annotated[str, StringConstraints(min_length=1, max_length=MAX_PASSWORD)]
    new_password: Password


class SessionOut(Doc):
    token: str
    username: str
    role: Role


class UserOut(Doc):
    username: str
    role: Role
    active: bool
    created_at: datetime


class NewUser(Doc):
    username: Username
    password: Password
    role: Role


class UserChange(Doc):
    role: Role | None = None
    active: bool | None = None
    password: Password | None = None


class ImportOut(Doc):
    episode_id: str
    version: int
    changed: bool
    notes: list[str]


class EpisodeSummary(Doc):
    episode_id: str
    patient_id: str
    payer_id: str
    version: int
    updated_at: datetime


class VersionOut(Doc):
    version: int
    imported_at: datetime
    imported_by: str
    source: str


class EpisodeOut(Doc):
    episode_id: str
    patient_id: str
    payer_id: str
    version: int
    versions: list[VersionOut]
    records: dict[str, Any]


class LedgerDay(Doc):
    date: date
    status: DayStatus
    code: str | None
    reasons: list[str]
    held_by: list[str]


class LedgerOut(Doc):
    episode_id: str
    period_from: date
    period_to: date
    claim_ids: list[int]
    days: list[LedgerDay]


class RunRequest(Doc):
    period_from: IsoDate = Field(alias="from")
    period_to: IsoDate = Field(alias="to")
    as_of: IsoDate | None = None
    episodes: Annotated[list[EpisodeKey], Field(max_length=10_000)] = []
    wait: StrictBool = False
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class RunOut(Doc):
    id: int
    period_from: date
    period_to: date
    as_of: date
    status: RunStatus
    total: int
    done: int
    started_by: str
    started_at: datetime
    finished_at: datetime | None
    summary: dict[str, Any]


class ClaimSummary(Doc):
    id: int
    claim_id: str
    episode_id: str
    payer_id: str
    period_from: date
    period_to: date
    status: ClaimStatus
    frequency_code: str
    total_charge: Money
    is_current: bool


class EventOut(Doc):
    at: datetime
    username: str
    from_status: str | None
    to_status: str
    note: str


class ClaimOut(ClaimSummary):
    replaces: int | None
    claim: dict[str, Any]  # the neutral claim document (SPEC "Result" claim)
    events: list[EventOut]


class StatusChange(Doc):
    status: ClaimStatus
    note: Annotated[str, StringConstraints(max_length=500)] = ""


class WorkItemOut(Doc):
    claim: int
    claim_id: str
    episode_id: str
    payer_id: str
    status: ClaimStatus
    holds: WorkKind
    date: date | None
    rule: str
    message: str


class ExportRequest(Doc):
    payer_id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=60)] | None = None


class ExportOut(Doc):
    """The first 837 batch and its claims; `interchanges` lists every batch the export made."""

    interchange: int
    claims: list[int]
    interchanges: list[int]


class AuditOut(Doc):
    at: datetime
    username: str
    action: str
    entity: str
    entity_id: str
    detail: dict[str, Any]
