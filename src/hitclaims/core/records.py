"""The therapy records of one patient episode (SPEC v1 episode JSON), validated at the edge.

Everything here is strict on purpose: an unknown field, an impossible date, a timestamp without a
UTC offset or a negative quantity is unusable input, never something to guess about. Checks that
need the code catalogs (is this drug known?) live in `loading`, not here, so the models stay pure.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Annotated, Final, Literal, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

# --- bounds at the edge -----------------------------------------------------------------------
# Every date and time is between these years: a far-future instant (9999-12-31T23:59:59-12:00)
# would overflow the moment it is converted to UTC or the patient's zone, deep in the engine.
MIN_YEAR: Final = 1900
MAX_YEAR: Final = 2199
# Quantities, amounts, rates and prices: at most 9 digits before the point and 4 after, so every
# number the 837 writes from them (CTP04 and SV104 take 15 digits, CLM02 and SV102 18) fits.
MAX_INTEGER_DIGITS: Final = 9
MAX_DECIMALS: Final = 4
MAX_WHOLE: Final = 10**MAX_INTEGER_DIGITS - 1  # the largest count (units, a supply quantity)
_MAX_NUMBER_TEXT: Final = 40  # characters of a number written as text


def _bounded(number: Decimal) -> Decimal:
    _, digits, exponent = number.as_tuple()
    if not isinstance(exponent, int):  # NaN and infinity: allow_inf_nan refuses them
        return number
    if number and number.adjusted() >= MAX_INTEGER_DIGITS:
        raise PydanticCustomError(
            "number_bounds", f"has more than {MAX_INTEGER_DIGITS} digits before the decimal point"
        )
    significant = "".join(map(str, digits)).rstrip("0")
    decimals = -(exponent + len(digits) - len(significant)) if significant else 0
    if decimals > MAX_DECIMALS:
        raise PydanticCustomError("number_bounds", f"has more than {MAX_DECIMALS} decimal places")
    return number


def _no_float(value: object) -> object:
    # JSON numbers with a fraction are binary floats: 0.1 is not 0.1. Money and quantities must
    # arrive as strings (or whole numbers) so that Decimal sees exactly what the sender wrote.
    if isinstance(value, bool | float):
        raise ValueError('write decimals as JSON strings such as "2.5" (whole numbers may be integers)')
    if isinstance(value, str) and len(value) > _MAX_NUMBER_TEXT:
        raise PydanticCustomError("number_bounds", "is too long for a number")
    if isinstance(value, int | str):
        try:
            return _decimal_of(str(value).strip())
        except InvalidOperation:
            raise ValueError(f"{value!r} is not a decimal number") from None
    if isinstance(value, Decimal):
        return _bounded(value)
    return value


# A population repeats the same few quantities and prices: each text is read and bounded once.
@lru_cache(maxsize=4096)
def _decimal_of(text: str) -> Decimal:
    return _bounded(Decimal(text))


def _in_years(value: date) -> date:
    # A datetime is checked as written, in its own offset: a year inside the window stays
    # convertible to UTC and to any time zone.
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise PydanticCustomError("date_window", f"is outside the years {MIN_YEAR} to {MAX_YEAR}")
    return value


# Characters an 837 may carry (the X12 extended character set is printable ASCII); letters that
# only differ by an accent or a ligature are mapped, anything else is refused at the edge.
_SPELLED_OUT = str.maketrans(
    {"ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D"}
    | {"ł": "l", "Ł": "L", "ð": "d", "Ð": "D", "þ": "th", "Þ": "TH", "ı": "i"}
)
_X12_PRINTABLE = re.compile(r"[ -~\t\r\n]*")


def x12_ascii(value: str) -> str:
    """Text as an 837 carries it: accents dropped (José: Jose), ligatures spelled out."""
    if value.isascii():
        return value
    decomposed = unicodedata.normalize("NFKD", value.translate(_SPELLED_OUT))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _x12_text(value: str) -> str:
    if not _X12_PRINTABLE.fullmatch(x12_ascii(value)):
        raise PydanticCustomError(
            "x12_text",
            "has characters an X12 claim cannot carry (use letters, digits, spaces and common"
            " punctuation; accented letters are fine)",
        )
    return value


Dec = Annotated[Decimal, BeforeValidator(_no_float), Field(allow_inf_nan=False)]
PositiveDec = Annotated[Decimal, BeforeValidator(_no_float), Field(allow_inf_nan=False, gt=0)]
NonNegativeDec = Annotated[Decimal, BeforeValidator(_no_float), Field(allow_inf_nan=False, ge=0)]
Money = NonNegativeDec  # a price or a fee: never negative, never a float
Count = Annotated[int, Field(ge=0, le=MAX_WHOLE)]
Day = Annotated[date, AfterValidator(_in_years)]
Moment = Annotated[AwareDatetime, AfterValidator(_in_years)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
# Text an 837 carries (names, address parts, identifiers): mapped to X12 characters or refused.
X12Text = Annotated[str, AfterValidator(_x12_text)]
Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60), AfterValidator(_x12_text)
]
RecordId = Annotated[
    str, StringConstraints(min_length=1, max_length=30, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
]
Code = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{5}$")]
DrugKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Address(Record):
    line1: Name
    line2: Name | None = None
    city: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=2, max_length=30), AfterValidator(_x12_text)
    ]
    state: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
    zip: Annotated[str, StringConstraints(pattern=r"^\d{5}(\d{4})?$")]


class Person(Record):
    first_name: Name
    last_name: Name
    birth_date: Day
    sex: Literal["F", "M", "U"]
    address: Address


class Patient(Person):
    id: RecordId
    timezone: str

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        # A name no zone file has, or one the file system cannot even look up (too long, a NUL).
        except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
            raise ValueError("unknown IANA time zone (use a name such as America/Chicago)") from exc
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class PriorAuthorization(Record):
    number: Annotated[str, StringConstraints(min_length=1, max_length=50), AfterValidator(_x12_text)]
    start: Day
    end: Day
    units: Count
    codes: Annotated[list[Code], Field(min_length=1)]

    @model_validator(mode="after")
    def _ordered(self) -> PriorAuthorization:
        if self.end < self.start:
            raise ValueError("end is before start")
        return self


class Coverage(Record):
    payer_id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=60)]
    member_id: Annotated[str, StringConstraints(min_length=2, max_length=80), AfterValidator(_x12_text)]
    group_number: (
        Annotated[str, StringConstraints(min_length=1, max_length=50), AfterValidator(_x12_text)] | None
    ) = None
    relationship: Literal["self", "spouse", "child", "other"] = "self"
    subscriber: Person | None = None
    # One authorization, or several (renewals): the engine reads them as a list.
    prior_authorization: PriorAuthorization | list[PriorAuthorization] | None = None

    @model_validator(mode="after")
    def _subscriber_when_not_self(self) -> Coverage:
        if self.relationship != "self" and self.subscriber is None:
            raise ValueError("subscriber is required when relationship is not 'self'")
        return self

    @property
    def authorizations(self) -> tuple[PriorAuthorization, ...]:
        pa = self.prior_authorization
        if pa is None:
            return ()
        return tuple(pa) if isinstance(pa, list) else (pa,)


class Prescriber(Record):
    npi: Annotated[str, StringConstraints(pattern=r"^\d{10}$")]
    first_name: Name
    last_name: Name


class MedicalNecessity(Record):
    continuous_infusion_indicated: bool
    alternatives_tried: list[Text] = []
    alternatives_outcome: Text | None = None


class Therapy(Record):
    category: Literal["pain_management"]
    device: Literal["external_pump", "implanted_pump", "gravity"]
    route: Literal["IV", "SC", "epidural", "intrathecal"]
    # Where the therapy is given: at home (POS 12) or in the provider's infusion suite (POS 49, SS).
    site: Literal["home", "infusion_suite"] = "home"


class Order(Record):
    id: RecordId
    signed_at: Moment | None = None
    start: Day
    end: Day | None = None
    # A missing drug, dose or rate is a documentation finding (order.incomplete), not bad input.
    drug: DrugKey | Annotated[list[DrugKey], Field(min_length=1)] | None = None
    dose: Text | None = None
    rate: Text | None = None
    mode: Literal["continuous", "intermittent"]

    @model_validator(mode="after")
    def _ordered(self) -> Order:
        if self.end is not None and self.end < self.start:
            raise ValueError("end is before start")
        return self

    @property
    def drugs(self) -> tuple[str, ...]:
        if self.drug is None:
            return ()
        return tuple(self.drug) if isinstance(self.drug, list) else (self.drug,)

    def covers(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


class Adjustment(Record):
    id: RecordId | None = None
    at: Moment
    order_id: RecordId
    rate: Text
    reason: Text | None = None


class PumpEvent(Record):
    id: RecordId | None = None
    at: Moment
    type: Literal["start", "stop", "rate_change", "alarm"]
    rate: Text | None = None


class Hold(Record):
    id: RecordId | None = None
    start: Moment
    end: Moment | None = None
    reason: Literal["inpatient", "skilled_nursing", "hospice", "other"]

    @model_validator(mode="after")
    def _ordered(self) -> Hold:
        if self.end is not None and self.end <= self.start:
            raise ValueError("end is not after start")
        return self


class ProgressNote(Record):
    id: RecordId | None = None
    date: Day
    # Never on a claim: any script a pharmacist's name is written in.
    author: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
    text: Annotated[str, StringConstraints(strip_whitespace=True, max_length=20000)]


class Supply(Record):
    id: RecordId | None = None
    date: Day
    description: Text
    hcpcs: Code | None = None
    quantity: Annotated[int, Field(gt=0, le=MAX_WHOLE)]


class Dispense(Record):
    id: RecordId | None = None
    date: Day
    drug: DrugKey
    # Checked by the audit (ndc.invalid), not here: a bad NDC holds the claim with a clear finding.
    ndc: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20), AfterValidator(_x12_text)
    ]
    quantity: PositiveDec
    unit: Literal["F2", "GR", "ME", "ML", "UN"]
    amount: PositiveDec
    amount_unit: Literal["mg", "mcg", "g"]
    administered_amount: NonNegativeDec | None = None
    single_dose: bool | None = None
    rx_number: (
        Annotated[str, StringConstraints(min_length=1, max_length=30), AfterValidator(_x12_text)] | None
    ) = None

    @model_validator(mode="after")
    def _administered_within_dispensed(self) -> Dispense:
        if self.administered_amount is not None and self.administered_amount > self.amount:
            raise ValueError("administered_amount is more than the dispensed amount")
        return self


class NursingVisit(Record):
    id: RecordId | None = None
    date: Day
    start: Moment | None = None
    end: Moment | None = None
    # A nurse may report a length without clock times; 99602 still needs the times (BCBSM).
    duration_minutes: Annotated[int, Field(gt=0, le=24 * 60)] | None = None
    credential: Literal["RN", "LPN"]
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=20000)] | None = None

    @model_validator(mode="after")
    def _ordered(self) -> NursingVisit:
        if (self.start is None) != (self.end is None):
            raise ValueError("give both start and end, or neither")
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise ValueError("end is not after start")
        return self

    @property
    def minutes(self) -> int | None:
        if self.start is not None and self.end is not None:
            return int((self.end - self.start).total_seconds() // 60)
        return self.duration_minutes


class ConcurrentTherapy(Record):
    id: RecordId | None = None
    code: Code
    start: Day
    end: Day | None = None
    rate: PositiveDec

    @model_validator(mode="after")
    def _ordered(self) -> ConcurrentTherapy:
        if self.end is not None and self.end < self.start:
            raise ValueError("end is before start")
        return self

    def covers(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


ICD10 = Annotated[str, StringConstraints(pattern=r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")]


class Episode(Record):
    episode_id: Annotated[
        # 22 characters: the claim id (episode, period, part) must fit the 837's CLM01 (38).
        str, StringConstraints(min_length=1, max_length=22, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    ]
    patient: Patient
    coverage: Coverage
    prescriber: Prescriber
    diagnoses: Annotated[list[ICD10], Field(min_length=1, max_length=12)]
    medical_history: Annotated[str, StringConstraints(strip_whitespace=True)] | None = None
    home_infusion_reason: Annotated[str, StringConstraints(strip_whitespace=True)] | None = None
    medical_necessity: MedicalNecessity | None = None
    therapy: Therapy
    orders: list[Order] = []
    adjustments: list[Adjustment] = []
    pump_events: list[PumpEvent] = []
    holds: list[Hold] = []
    discontinued_at: Moment | None = None
    progress_notes: list[ProgressNote] = []
    supplies: list[Supply] = []
    dispenses: list[Dispense] = []
    nursing_visits: list[NursingVisit] = []
    concurrent_therapies: list[ConcurrentTherapy] = []


class Problem(NamedTuple):
    """Something wrong with otherwise well-formed records: where it is and what it is."""

    record: str
    field: str | None
    problem: str


def episode_problems(episode: Episode) -> list[Problem]:
    """Cross-record checks the field types cannot express (references, local dates)."""
    problems: list[Problem] = []
    # Sets, not list scans: a file may hold tens of thousands of records.
    ids: set[str] = set()
    for i, order in enumerate(episode.orders):
        if order.id in ids:
            problems.append(Problem(f"orders[{i}]", "id", f"order id {order.id!r} is used twice"))
        ids.add(order.id)
    for i, adj in enumerate(episode.adjustments):
        if adj.order_id not in ids:
            problems.append(Problem(f"adjustments[{i}]", "order_id", f"no order with id {adj.order_id!r}"))
    codes: set[str] = set()
    for i, code in enumerate(episode.diagnoses):
        if code in codes:
            problems.append(Problem(f"diagnoses[{i}]", None, f"{code} is listed twice"))
        codes.add(code)
    zone = episode.patient.zone
    for i, visit in enumerate(episode.nursing_visits):
        if visit.start is not None and visit.start.astimezone(zone).date() != visit.date:
            problems.append(
                Problem(
                    f"nursing_visits[{i}]",
                    "date",
                    f"{visit.date} is not the local date of the visit's start"
                    f" ({visit.start.astimezone(zone).date()} in {episode.patient.timezone})",
                )
            )
    return problems


_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]+)\s*/\s*(h|hr|hour|min|day|d)\s*$", re.I)


@lru_cache(maxsize=4096)  # asked for each order and adjustment, often the same few rates
def normalise_rate(text: str) -> str:
    """A rate as a comparable key: '2 mL/h' and '2.0 ml/hr' are the same rate."""
    match = _RATE.match(text)
    if not match:
        return " ".join(text.lower().split())
    number = Decimal(match.group(1)).normalize()
    per = {"hr": "h", "hour": "h", "d": "day"}.get(match.group(3).lower(), match.group(3).lower())
    return f"{number:f} {match.group(2).lower()}/{per}"


def local_date(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()


def ref(record: Record) -> str:
    """How findings and lines name a record: by its id when it has one, else by what it is.

    Never by list position, so a result does not change when the same records arrive in another
    order.
    """
    rid = getattr(record, "id", None)
    match record:
        case Order():
            return f"order {record.id}"
        case PumpEvent():
            return f"pump event {rid or ''} {record.type} {record.at.isoformat()}".replace("  ", " ")
        case Hold():
            return f"hold {rid or record.start.isoformat()}"
        case Adjustment():
            return f"adjustment {rid or record.at.isoformat()}"
        case ProgressNote():
            return f"progress note {rid or record.date.isoformat()}"
        case Supply():
            return f"supply {rid or record.date.isoformat() + ' ' + record.description}"
        case Dispense():
            return f"dispense {rid or record.date.isoformat() + ' ' + record.drug}"
        case NursingVisit():
            when = record.start.isoformat() if record.start else record.date.isoformat()
            return f"nursing visit {rid or when}"
        case ConcurrentTherapy():
            return f"concurrent therapy {rid or record.code + ' from ' + record.start.isoformat()}"
        case _:
            return type(record).__name__
