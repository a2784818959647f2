"""Claim lines from the decided days and the records (DOMAIN §4–6).

Per-diem lines by the payer's line format with concurrent-therapy modifiers; drug lines with
units and the 11-digit NDC; nursing lines with visit and additional-hour units; unbundled supply lines. Each
line carries its basis: the days, records and settings it comes from. Modifiers are looked up
in the modifier catalog by what they are used for, never spelled here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from hitclaims.core.catalog import Catalog, Drug
from hitclaims.core.days import Period
from hitclaims.core.drugs import DrugPart, WasteModifiers, drug_parts
from hitclaims.core.ndc import NdcError, normalise_ndc
from hitclaims.core.nursing import CappedNursing, NursingDay
from hitclaims.core.policy import PayerPolicy
from hitclaims.core.provider import Provider
from hitclaims.core.records import ConcurrentTherapy, Dispense, Episode, Order, ref
from hitclaims.core.vocabulary import LineKind

CENT = Decimal("0.01")
HOME, SUITE = "12", "49"


def place_of_service(episode: Episode) -> str:
    """Home (12), or the provider's ambulatory infusion suite (49) where the therapy is given there.

    Nursing visits (99601/99602) are home visits by definition and keep 12.
    """
    return SUITE if episode.therapy.site == "infusion_suite" else HOME


def to_cents(value: Decimal) -> Decimal:
    """Money to the cent, half up, as a charge list and a fee schedule are read."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Line:
    kind: LineKind
    code: str
    modifiers: tuple[str, ...]
    start: date
    end: date
    units: int
    unit_charge: Decimal
    charge: Decimal
    expected_payment: Decimal | None
    place_of_service: str
    record: str  # the record (or the per-diem days) the line bills
    basis: tuple[str, ...] = ()
    days: tuple[date, ...] = ()
    description: str | None = None
    ndc: str | None = None
    ndc_quantity: Decimal | None = None
    ndc_unit: str | None = None
    rx_number: str | None = None
    authorization: str | None = None
    sort_key: tuple[object, ...] = field(default=(), compare=False)
    # What makes this service the same service on another claim (the store's billed_items);
    # set by `with_item_keys`. Per-diem lines are tracked by their days and have none.
    item_key: str = ""

    @property
    def service_key(self) -> str:
        mods = "-".join(self.modifiers)
        if self.kind == "per_diem":
            return ""
        if self.kind == "nursing":
            return f"nursing:{self.code}:{self.start}"
        return f"{self.kind}:{self.code}:{mods}:{self.record}:{self.ndc or ''}:{self.ndc_quantity or ''}"


def line_order(line: Line) -> tuple[object, ...]:
    # After the kind's own key, the whole line: equal keys must not fall back on input order.
    return (
        line.sort_key,
        line.code,
        line.modifiers,
        line.start,
        line.end,
        line.units,
        line.charge,
        line.ndc_quantity or Decimal(0),
        line.basis,
    )


def with_item_keys(lines: Sequence[Line]) -> list[Line]:
    """Each service line's item key, numbered when two lines are the same service.

    Two identical cassettes dispensed the same day without record ids are two services: the
    second gets `#2`. Identical lines are interchangeable, so which one gets which number does
    not matter, and the keys do not depend on the order the records came in.
    """
    seen: dict[str, int] = defaultdict(int)
    keyed: list[Line] = []
    for line in lines:
        base = line.service_key
        if not base:
            keyed.append(line)
            continue
        seen[base] += 1
        key = base if seen[base] == 1 else f"{base}#{seen[base]}"
        # `replace` without its per-field walk: every field of a Line is an init field.
        keyed.append(Line(**{**vars(line), "item_key": key}))
    return keyed


# --- per diem ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class BilledDay:
    date: date
    code: str
    authorization: str | None


@dataclass(frozen=True)
class _DayCoding:
    day: BilledDay
    modifiers: tuple[str, ...]
    factor: Decimal
    why: str


def _rank_of_pain(
    day: date,
    code: str,
    therapy_start: date,
    concurrent: Sequence[ConcurrentTherapy],
    policy: PayerPolicy,
) -> tuple[int, str]:
    others = [c for c in concurrent if c.covers(day)]
    if not others:
        return 0, ""
    pain_rate = policy.fee_schedule.get(code, Decimal(0))
    # (rate, start, is_other): on a tie the earlier start wins, on the same start the pain therapy.
    entries = [(pain_rate, therapy_start, 0, code)] + [(c.rate, c.start, 1, c.code) for c in others]
    if policy.concurrent_primary == "highest_rate":
        entries.sort(key=lambda e: (-e[0], e[1], e[2], e[3]))
        rule = "highest rate first"
    else:
        entries.sort(key=lambda e: (e[1], e[2], -e[0], e[3]))
        rule = "first started first"
    rank = next(i for i, e in enumerate(entries) if e[2] == 0)
    order = ", ".join(f"{e[3]} {e[0]}" for e in entries)
    return (
        rank,
        f"concurrent per diems on {day} ranked {rule}"
        f" (concurrent_primary: {policy.concurrent_primary}): {order}",
    )


def _code_days(
    days: Iterable[BilledDay],
    episode: Episode,
    policy: PayerPolicy,
    catalog: Catalog,
    therapy_start: date,
) -> list[_DayCoding]:
    suite = catalog.modifier("infusion_suite") if episode.therapy.site == "infusion_suite" else None
    second, third = catalog.modifier("second_concurrent"), catalog.modifier("third_concurrent")
    coded: list[_DayCoding] = []
    for day in sorted(days, key=lambda d: d.date):
        rank, why = _rank_of_pain(day.date, day.code, therapy_start, episode.concurrent_therapies, policy)
        mods: list[str] = []
        if rank >= 1:
            mods.append(second if rank == 1 else third)
            if policy.concurrent_extra_modifier:
                mods.append(policy.concurrent_extra_modifier)
        if suite:
            mods.append(suite)
        coded.append(_DayCoding(day, tuple(mods), policy.payment_factor(rank), why))
    return coded


def _group(coded: Sequence[_DayCoding], policy: PayerPolicy) -> list[list[_DayCoding]]:
    def key(c: _DayCoding) -> tuple[str, tuple[str, ...], str | None]:
        return (c.day.code, c.modifiers, c.day.authorization)

    if policy.line_format == "daily":
        return [[c] for c in coded]
    if policy.line_format == "calendar_month":
        months: dict[tuple[int, int, str, tuple[str, ...], str | None], list[_DayCoding]] = defaultdict(list)
        for c in coded:
            months[(c.day.date.year, c.day.date.month, *key(c))].append(c)
        return [months[k] for k in sorted(months, key=lambda k: (months[k][0].day.date, k[2:4]))]
    groups: list[list[_DayCoding]] = []
    for c in coded:
        last = groups[-1][-1] if groups else None
        if (
            last is not None
            and key(last) == key(c)
            and c.day.date - last.day.date == timedelta(days=1)
            and (policy.max_span_days is None or len(groups[-1]) < policy.max_span_days)
        ):
            groups[-1].append(c)
        else:
            groups.append([c])
    return groups


def per_diem_lines(
    days: Iterable[BilledDay],
    episode: Episode,
    policy: PayerPolicy,
    catalog: Catalog,
    provider: Provider,
    therapy_start: date,
) -> list[Line]:
    coded = _code_days(days, episode, policy, catalog, therapy_start)
    pos = place_of_service(episode)
    lines: list[Line] = []
    for group in _group(coded, policy):
        first, last = group[0], group[-1]
        code = first.day.code
        unit_charge = provider.charges.get(code, Decimal(0))
        units = len(group)
        fee = policy.fee_schedule.get(code)
        expected = to_cents(sum((fee * c.factor for c in group), Decimal(0))) if fee is not None else None
        basis = [f"{units} billed day(s) of the ledger, line format {policy.line_format}"]
        basis += sorted({c.why for c in group if c.why})
        if first.modifiers:
            basis.append(f"modifiers {' '.join(first.modifiers)}")
        lines.append(
            Line(
                kind="per_diem",
                code=code,
                modifiers=first.modifiers,
                start=first.day.date,
                end=last.day.date,
                units=units,
                unit_charge=to_cents(unit_charge),
                charge=to_cents(unit_charge * units),
                expected_payment=expected,
                place_of_service=pos,
                record=f"per-diem days {first.day.date} to {last.day.date}",
                basis=tuple(basis),
                days=tuple(c.day.date for c in group),
                authorization=first.day.authorization,
                sort_key=(0, first.day.date, code, first.modifiers),
            )
        )
    return lines


# --- drugs ------------------------------------------------------------------------------------


def _drug_position(day: date, drug: str, orders: Sequence[Order]) -> int:
    """Where the drug stands in the order's list: a mixture's lines keep the prescriber's order."""
    for order in sorted(orders, key=lambda o: (o.start, o.id)):
        if order.covers(day) and drug in order.drugs:
            return order.drugs.index(drug)
    return 99


def drug_lines(
    episode: Episode,
    policy: PayerPolicy,
    catalog: Catalog,
    provider: Provider,
    period: Period,
    held: Container[str],
) -> list[Line]:
    waste = WasteModifiers.of(catalog)
    lines: list[Line] = []
    for dispense in episode.dispenses:
        if dispense.date not in period or ref(dispense) in held:
            continue
        drug = catalog.drug(dispense.drug)
        parts = drug_parts(dispense, drug, policy, waste) or []
        lines += [_drug_line(episode, dispense, drug, part, policy, provider) for part in parts]
    return lines


def _drug_line(
    episode: Episode, dispense: Dispense, drug: Drug, part: DrugPart, policy: PayerPolicy, provider: Provider
) -> Line:
    record = ref(dispense)
    try:
        ndc = normalise_ndc(dispense.ndc)
    except NdcError:
        ndc = dispense.ndc  # ndc.invalid holds the claim; the line still shows what was sent
    unit_charge, charge = _drug_charge(drug, part, provider)
    fee = policy.fee_schedule.get(drug.hcpcs) if not drug.unclassified else None
    position = _drug_position(dispense.date, dispense.drug, episode.orders)
    return Line(
        kind="drug",
        code=drug.hcpcs,
        modifiers=part.modifiers,
        start=dispense.date,
        end=dispense.date,
        units=part.units,
        unit_charge=unit_charge,
        charge=charge,
        expected_payment=to_cents(fee * part.units) if fee is not None else None,
        place_of_service=place_of_service(episode),
        record=record,
        basis=(
            f"{record}: {dispense.amount} {dispense.amount_unit} {drug.name}, {part.basis}",
            _unit_note(drug.unit_size, drug.unit, part.units),
        ),
        description=f"{drug.name} {dispense.amount} {dispense.amount_unit}" if drug.unclassified else None,
        ndc=ndc,
        ndc_quantity=part.ndc_quantity,
        ndc_unit=dispense.unit,
        rx_number=dispense.rx_number,
        sort_key=(1, dispense.date, position, drug.key, ndc, part.modifiers),
    )


def _drug_charge(drug: Drug, part: DrugPart, provider: Provider) -> tuple[Decimal, Decimal]:
    """Unit charge and charge: per HCPCS unit, or per NDC unit for a drug with no specific code."""
    if drug.unclassified:
        price = provider.unclassified_drug_prices.get(drug.key, Decimal(0))
        charge = to_cents(price * part.ndc_quantity)
        return charge, charge
    unit_charge = to_cents(provider.charges.get(drug.hcpcs, Decimal(0)))
    return unit_charge, to_cents(unit_charge * part.units)


def _unit_note(unit_size: Decimal | None, unit: str, units: int) -> str:
    if unit_size is None:
        return "no specific HCPCS code: J3490, 1 unit, the NDC quantity carries the amount"
    return f"{units} unit(s) of {unit_size} {unit}: max(1, ceil(amount / unit size))"


# --- nursing ----------------------------------------------------------------------------------


def nursing_lines(
    nursing: CappedNursing, policy: PayerPolicy, catalog: Catalog, provider: Provider
) -> list[Line]:
    """The visit code (99601) for each nursing day, and the additional-hour code (99602) for its
    extra hours left after holds and caps."""
    specialized = catalog.modifier("specialized_nurse") if policy.nursing.sd_modifier else None
    visit, hour = catalog.nursing_code("visit"), catalog.nursing_code("additional_hour")
    lines: list[Line] = []
    for day in nursing.days:
        mods = (specialized,) if specialized and all(v.credential == "RN" for v in day.visits) else ()
        lines.append(_nursing_line(visit, True, day, 1, mods, provider, policy))
        extra = nursing.extra_units[day.day]
        if extra > 0:
            lines.append(_nursing_line(hour, False, day, extra, mods, provider, policy))
    return lines


def _nursing_line(
    code: str,
    is_visit: bool,
    day: NursingDay,
    units: int,
    mods: tuple[str, ...],
    provider: Provider,
    policy: PayerPolicy,
) -> Line:
    unit_charge = to_cents(provider.charges.get(code, Decimal(0)))
    fee = policy.fee_schedule.get(code)
    visits = ", ".join(day.records)
    if is_visit:
        basis = (f"{visits}: {day.minutes} min of nursing on {day.day}; {code} covers the first 2 hours",)
    else:
        basis = (
            f"{visits}: {day.minutes} min of nursing on {day.day}, {day.extra_minutes} min beyond the"
            f" first 2 hours -> {day.extra_units} h (a started hour counts from"
            f" {policy.nursing.extra_minutes} min)",
        )
    return Line(
        kind="nursing",
        code=code,
        modifiers=mods,
        start=day.day,
        end=day.day,
        units=units,
        unit_charge=unit_charge,
        charge=to_cents(unit_charge * units),
        expected_payment=to_cents(fee * units) if fee is not None else None,
        place_of_service=HOME,
        record=day.first,
        basis=basis,
        sort_key=(2, code, day.day),
    )


# --- supplies ---------------------------------------------------------------------------------


def supply_lines(episode: Episode, policy: PayerPolicy, provider: Provider, period: Period) -> list[Line]:
    lines: list[Line] = []
    for supply in episode.supplies:
        if supply.date not in period or supply.hcpcs not in policy.unbundled_items:
            continue
        assert supply.hcpcs is not None
        unit_charge = to_cents(provider.charges.get(supply.hcpcs, Decimal(0)))
        fee = policy.fee_schedule.get(supply.hcpcs)
        lines.append(
            Line(
                kind="supply",
                code=supply.hcpcs,
                modifiers=(),
                start=supply.date,
                end=supply.date,
                units=supply.quantity,
                unit_charge=unit_charge,
                charge=to_cents(unit_charge * supply.quantity),
                expected_payment=to_cents(fee * supply.quantity) if fee is not None else None,
                place_of_service=place_of_service(episode),
                record=ref(supply),
                basis=(f"{ref(supply)}: {supply.hcpcs} is paid outside the per diem (unbundled_items)",),
                sort_key=(3, supply.date, supply.hcpcs, supply.description),
            )
        )
    return lines
