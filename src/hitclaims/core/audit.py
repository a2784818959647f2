"""The documentation audit (DOMAIN §7): hold what is not ready, say why, cite the rule.

One small function per rule id; each returns findings. What a finding holds (a day, a line, the
claim) comes from the rule table in `catalog/data/rules.yaml` and the payer's severity overrides.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from hitclaims.core.catalog import Catalog
from hitclaims.core.coding import Line
from hitclaims.core.days import Period, local_day
from hitclaims.core.drugs import WasteModifiers, drug_parts
from hitclaims.core.findings import BilledElsewhere, Finding, FindingMaker
from hitclaims.core.ndc import NdcError, normalise_ndc
from hitclaims.core.nursing import NursingCut, NursingDay
from hitclaims.core.per_diem import DayDecision, Ledger
from hitclaims.core.policy import PayerPolicy
from hitclaims.core.provider import Provider, npi_is_valid
from hitclaims.core.records import Episode, Order, normalise_rate, ref

# A telephone order is often written down a little after the nurse changed the pump.
ADJUSTMENT_GRACE = timedelta(minutes=60)
TIMELY_WARNING_SHARE = Decimal("0.8")
_OUTCOME_WORDS = (
    "unsuccessful",
    "inappropriate",
    "failed",
    "ineffective",
    "not tolerated",
    "contraindicated",
)


@dataclass(frozen=True)
class Context:
    episode: Episode
    policy: PayerPolicy
    catalog: Catalog
    period: Period
    as_of: date
    ledger: Ledger
    make: FindingMaker

    @property
    def billable(self) -> tuple[DayDecision, ...]:
        return self.ledger.billable_days


Check = Callable[[Context], Iterable[Finding]]


# --- the payer --------------------------------------------------------------------------------


def payer_no_s_codes(ctx: Context) -> Iterable[Finding]:
    """Refused, naming the Medicare route with the episode's own drug codes (DOMAIN §2, §9)."""
    if ctx.policy.takes_s_codes:
        return
    rule = ctx.catalog.rules["payer.no_s_codes"]
    codes = _medicare_drug_codes(ctx)
    if not codes:
        drug_codes = "the drug's J-code (no drug is on record yet)"
    elif len(codes) == 1:
        drug_codes = f"the drug's J-code ({codes[0]})"
    else:
        drug_codes = f"the drugs' J-codes ({', '.join(codes)})"
    message = (rule.message or rule.summary).format(drug_codes=drug_codes)
    yield ctx.make("payer.no_s_codes", "coverage", message)


def _medicare_drug_codes(ctx: Context) -> list[str]:
    """The J-codes of every drug the orders or dispenses name, as a DME MAC claim bills them."""
    keys = {k for o in ctx.episode.orders for k in o.drugs} | {d.drug for d in ctx.episode.dispenses}
    drugs = [ctx.catalog.drugs[k] for k in keys if k in ctx.catalog.drugs]
    return sorted({d.medicare_hcpcs or d.hcpcs for d in drugs})


# --- orders -----------------------------------------------------------------------------------


def order_missing(ctx: Context) -> Iterable[Finding]:
    for day in ctx.billable:
        if not any(o.covers(day.date) for o in ctx.episode.orders):
            yield ctx.make("order.missing", "orders", f"No physician order covers {day.date}.", day.date)


def _orders_in_use(ctx: Context) -> list[Order]:
    days = [d.date for d in ctx.billable] or list(ctx.period.days())
    return [o for o in ctx.episode.orders if any(o.covers(d) for d in days)]


def order_unsigned(ctx: Context) -> Iterable[Finding]:
    for order in _orders_in_use(ctx):
        if order.signed_at is None:
            yield ctx.make("order.unsigned", ref(order), f"Order {order.id} is not signed.")
        elif local_day(order.signed_at, ctx.episode.patient.zone) > ctx.as_of:
            yield ctx.make(
                "order.unsigned",
                ref(order),
                f"Order {order.id} is signed after the submission date {ctx.as_of}.",
            )


def order_incomplete(ctx: Context) -> Iterable[Finding]:
    for order in _orders_in_use(ctx):
        missing = [name for name in ("drug", "dose", "rate") if not getattr(order, name)]
        if missing:
            yield ctx.make(
                "order.incomplete",
                ref(order),
                f"Order {order.id} does not state the {' and the '.join(missing)}.",
            )


# --- the file ---------------------------------------------------------------------------------


def history_missing(ctx: Context) -> Iterable[Finding]:
    missing = [
        label
        for label, value in (
            ("medical history", ctx.episode.medical_history),
            ("reason for home infusion", ctx.episode.home_infusion_reason),
        )
        if not value
    ]
    if missing:
        yield ctx.make("history.missing", "medical_history", f"No {' and no '.join(missing)} on file.")


def necessity_missing(ctx: Context) -> Iterable[Finding]:
    need = ctx.episode.medical_necessity
    continuous_billed = any(d.kind == "continuous" for d in ctx.billable)
    gaps: list[str] = []
    if need is None:
        gaps.append("no medical necessity is documented")
    else:
        if continuous_billed and not need.continuous_infusion_indicated:
            gaps.append("continuous infusion is not documented as clinically indicated")
        if not need.alternatives_tried:
            gaps.append("no alternative pain control is listed")
        outcome = (need.alternatives_outcome or "").lower()
        if not any(outcome.startswith(w) for w in _OUTCOME_WORDS):
            gaps.append("the alternatives are not documented as unsuccessful or inappropriate")
    if gaps:
        yield ctx.make(
            "necessity.missing", "medical_necessity", "Medical necessity: " + "; ".join(gaps) + "."
        )


def supplies_missing(ctx: Context) -> Iterable[Finding]:
    if not ctx.episode.supplies:
        yield ctx.make(
            "supplies.missing",
            "supplies",
            "No supplies or equipment are documented for the episode.",
        )


def note_missing(ctx: Context) -> Iterable[Finding]:
    noted = {n.date for n in ctx.episode.progress_notes if n.text}
    for day in ctx.billable:
        if day.date not in noted:
            yield ctx.make("note.missing", "progress_notes", f"No progress note for {day.date}.", day.date)


# --- diagnoses --------------------------------------------------------------------------------


def _service_dates(ctx: Context) -> tuple[date, date]:
    dates = [d.date for d in ctx.billable]
    dates += [x.date for x in ctx.episode.dispenses if x.date in ctx.period]
    dates += [v.date for v in ctx.episode.nursing_visits if v.date in ctx.period]
    if not dates:
        return ctx.period.start, ctx.period.end
    return min(dates), max(dates)


def diagnosis_invalid(ctx: Context) -> Iterable[Finding]:
    first, last = _service_dates(ctx)
    for code in ctx.episode.diagnoses:
        known = ctx.catalog.diagnoses.get(code)
        if known is None:
            continue
        if not known.billable:
            yield ctx.make(
                "diagnosis.invalid",
                "diagnoses",
                f"{code} is a category header, not a billable ICD-10-CM code: use a subcode.",
            )
        elif not (known.valid.covers(first) and known.valid.covers(last)):
            end = known.valid.to
            when = f"after {end}" if end and last > end else f"before {known.valid.from_}"
            yield ctx.make(
                "diagnosis.invalid",
                "diagnoses",
                f"{code} is not a valid ICD-10-CM code {when} (dates of service {first} to {last}).",
            )


def diagnosis_unsupported(ctx: Context) -> Iterable[Finding]:
    codes = ctx.episode.diagnoses
    pain = [
        c for c in codes if (k := ctx.catalog.diagnoses.get(c)) is not None and k.supports_pain and k.billable
    ]
    if not pain:
        yield ctx.make(
            "diagnosis.unsupported",
            "diagnoses",
            "No diagnosis supports pain management (a billable G89 subcode or another pain code).",
        )
        return
    neoplasm = any(ctx.catalog.is_neoplasm(c) for c in codes)
    for code in pain:
        if ctx.catalog.diagnoses[code].requires_neoplasm and not neoplasm:
            yield ctx.make(
                "diagnosis.unsupported",
                "diagnoses",
                f"{code} (neoplasm-related pain) needs the neoplasm code (C00-D49) on the claim.",
            )


# --- identifiers ------------------------------------------------------------------------------


def npi_invalid(ctx: Context) -> Iterable[Finding]:
    npi = ctx.episode.prescriber.npi
    if not npi_is_valid(npi):
        yield ctx.make("npi.invalid", "prescriber", f"The prescriber's NPI {npi} fails its check digit.")


def ndc_invalid(ctx: Context) -> Iterable[Finding]:
    for dispense in ctx.episode.dispenses:
        if dispense.date not in ctx.period:
            continue
        try:
            normalise_ndc(dispense.ndc)
        except NdcError as exc:
            yield ctx.make("ndc.invalid", ref(dispense), f"NDC {exc}.", dispense.date)


# --- pump log ---------------------------------------------------------------------------------


def continuity_no_pump_log(ctx: Context) -> Iterable[Finding]:
    if not ctx.ledger.from_pump_log and ctx.billable:
        yield ctx.make(
            "continuity.no_pump_log",
            "pump_events",
            "No pump log: runs come from the orders, so continuity is not evidenced by a pump record.",
        )


def _rate_in_force(ctx: Context, order: Order, at: datetime) -> str | None:
    adjustments = [
        a for a in ctx.episode.adjustments if a.order_id == order.id and a.at <= at + ADJUSTMENT_GRACE
    ]
    if adjustments:
        return normalise_rate(max(adjustments, key=lambda a: a.at).rate)
    return normalise_rate(order.rate) if order.rate else None


def adjustment_unmatched(ctx: Context) -> Iterable[Finding]:
    zone = ctx.episode.patient.zone
    for event in sorted(ctx.episode.pump_events, key=lambda e: (e.at, e.type)):
        day = local_day(event.at, zone)
        if event.rate is None or event.type not in ("start", "rate_change") or day not in ctx.period:
            continue
        orders = [o for o in ctx.episode.orders if o.covers(day)]
        if not orders:
            continue
        in_force = {_rate_in_force(ctx, o, event.at) for o in orders}
        if normalise_rate(event.rate) not in in_force:
            yield ctx.make(
                "adjustment.unmatched",
                ref(event),
                f"Pump {event.type.replace('_', ' ')} to {event.rate} at"
                f" {event.at.astimezone(zone):%Y-%m-%d %H:%M} matches no order or recorded adjustment.",
                day,
            )


# --- supplies, drugs, nursing -----------------------------------------------------------------


def bundled_item(ctx: Context) -> Iterable[Finding]:
    for supply in ctx.episode.supplies:
        if supply.date in ctx.period and supply.hcpcs and supply.hcpcs not in ctx.policy.unbundled_items:
            yield ctx.make(
                "bundled.item",
                ref(supply),
                f"{supply.hcpcs} ({supply.description}) is bundled into the per diem and is not billed.",
                supply.date,
            )


def drug_amounts(ctx: Context) -> Iterable[Finding]:
    waste = WasteModifiers.of(ctx.catalog)
    for dispense in ctx.episode.dispenses:
        if dispense.date not in ctx.period:
            continue
        parts = drug_parts(dispense, ctx.catalog.drug(dispense.drug), ctx.policy, waste)
        record = ref(dispense)
        if parts is None:
            yield ctx.make(
                "drug.amount_missing",
                record,
                f"{dispense.drug} dispensed {dispense.date}: this payer bills the administered amount"
                " (or needs it for JW/JZ), and none is recorded.",
                dispense.date,
                target=record,
            )
        elif not parts:
            yield ctx.make(
                "drug.not_administered",
                record,
                f"{dispense.drug} dispensed {dispense.date}: nothing administered, no drug line.",
                dispense.date,
            )


def nursing_notes(ctx: Context) -> Iterable[Finding]:
    in_period = [v for v in ctx.episode.nursing_visits if v.date in ctx.period]
    if not ctx.policy.nursing.billed_by_provider:
        if in_period:
            yield ctx.make(
                "nursing.billed_elsewhere",
                "nursing_visits",
                f"{len(in_period)} nursing visit(s) are not billed: this payer takes nursing from a"
                " home health agency, not from the infusion provider.",
            )
        return
    for visit in in_period:
        if not visit.note:
            record = ref(visit)
            yield ctx.make(
                "nursing.note_missing",
                record,
                f"Nursing visit on {visit.date} has no note: it adds no time and carries no 99601.",
                visit.date,
                target=record,
            )


def nursing_cap(ctx: Context, cuts: Iterable[NursingCut]) -> Iterable[Finding]:
    """Additional nursing hours a daily or weekly cap took off (a warning by default)."""
    for cut in cuts:
        yield ctx.make(
            "nursing.cap",
            "nursing_visits",
            f"{cut.units} additional nursing hour(s) on {cut.day} cut ({cut.cap}).",
            cut.day,
        )


def nursing_times(ctx: Context, plan: Sequence[NursingDay]) -> Iterable[Finding]:
    """99602 needs the visits' start and stop times (BCBSM): without them the 99602 is held."""
    if not ctx.policy.nursing.billed_by_provider:
        return
    for day in plan:
        if day.day in ctx.period and day.untimed and day.extra_units:
            yield ctx.make(
                "nursing.times_missing",
                ", ".join(day.untimed),
                f"Nursing on {day.day} claims {day.extra_units} additional hour(s) (99602) but a visit"
                " has no start and stop times.",
                day.day,
                target=day.target,
            )


# --- after coding: the lines ------------------------------------------------------------------


def timely_filing(ctx: Context, lines: Sequence[Line]) -> Iterable[Finding]:
    if not lines:
        return
    limit = ctx.policy.timely_filing_days
    oldest = min(lines, key=lambda line: line.end)
    age = (ctx.as_of - oldest.end).days
    late = [line for line in lines if (ctx.as_of - line.end).days > limit]
    if late:
        yield ctx.make(
            "timely_filing.past",
            "claim",
            f"{len(late)} line(s) are past the {limit}-day timely-filing window: the oldest,"
            f" {oldest.code} of {oldest.end}, is {age} days old on {ctx.as_of}.",
            oldest.end,
        )
    elif age >= TIMELY_WARNING_SHARE * limit:
        yield ctx.make(
            "timely_filing.near",
            "claim",
            f"The oldest line ({oldest.code} of {oldest.end}) is {age} days old on {ctx.as_of}:"
            f" {limit - age} day(s) left of the {limit}-day timely-filing window.",
            oldest.end,
        )


def charge_missing(ctx: Context, lines: Sequence[Line], provider: Provider) -> Iterable[Finding]:
    # A drug with no specific code is priced per NDC unit, by drug: checked by dispense below.
    unclassified = {d.hcpcs for d in ctx.catalog.drugs.values() if d.unclassified}
    missing = {ln.code for ln in lines if ln.code not in unclassified and ln.code not in provider.charges}
    for dispense in ctx.episode.dispenses:
        drug = ctx.catalog.drug(dispense.drug)
        if (
            dispense.date in ctx.period
            and drug.unclassified
            and drug.key not in provider.unclassified_drug_prices
        ):
            missing.add(f"{drug.hcpcs} ({drug.key})")
    for code in sorted(missing):
        yield ctx.make("charge.missing", "provider", f"The provider's charge list has no price for {code}.")


def already_billed(
    ctx: Context, days: Mapping[date, str], lines: Sequence[tuple[Line, str]]
) -> Iterable[Finding]:
    """Services another claim already bills: said once per claim, so a re-run explains itself."""
    by_claim: dict[str, list[date]] = defaultdict(list)
    for day, claim in days.items():
        by_claim[claim].append(day)
    for claim, dates in sorted(by_claim.items()):
        shown = ", ".join(d.isoformat() for d in sorted(dates))
        yield ctx.make(
            "day.already_billed",
            "billed_days",
            f"{len(dates)} per-diem day(s) are already billed on claim {claim}"
            f" and are not billed again: {shown}.",
        )
    for line, claim in lines:
        yield ctx.make(
            "line.already_billed",
            line.record,
            f"{line.code} of {line.start} is already billed on claim {claim} and is not billed again.",
            line.start,
        )


def other_payer_days(ctx: Context, days: Mapping[date, BilledElsewhere]) -> Iterable[Finding]:
    """A day another payer's claim already bills is held, naming that claim: the patient's day is
    billed once, and which payer pays is for coordination of benefits to settle."""
    billable = {d.date for d in ctx.ledger.billable_days}
    for day, other in sorted(days.items()):
        if day in billable:
            yield ctx.make(
                "day.other_payer",
                "billed_days",
                f"{day} is already billed to payer {other.payer_id} on claim {other.claim}; held until"
                " coordination of benefits settles which payer pays.",
                day,
            )


def other_payer_lines(ctx: Context, lines: Sequence[tuple[Line, BilledElsewhere]]) -> Iterable[Finding]:
    for line, other in lines:
        yield ctx.make(
            "line.other_payer",
            line.record,
            f"{line.code} of {line.start} is already billed to payer {other.payer_id} on claim {other.claim};"
            " held until coordination of benefits settles which payer pays.",
            line.start,
            target=line.record,
        )


def nothing_billable(ctx: Context, lines: Sequence[Line]) -> Iterable[Finding]:
    if not lines and ctx.policy.takes_s_codes:
        yield ctx.make(
            "claim.empty",
            "claim",
            "Nothing in this billing period can be billed: see the ledger and the findings.",
        )


RECORD_CHECKS: tuple[Check, ...] = (
    payer_no_s_codes,
    order_unsigned,
    order_incomplete,
    history_missing,
    necessity_missing,
    supplies_missing,
    diagnosis_unsupported,
    diagnosis_invalid,
    npi_invalid,
    ndc_invalid,
    continuity_no_pump_log,
    adjustment_unmatched,
    bundled_item,
    drug_amounts,
    nursing_notes,
)
DAY_CHECKS: tuple[Check, ...] = (order_missing, note_missing)
