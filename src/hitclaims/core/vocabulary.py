"""The words hitclaims uses, each defined once: every module imports them from here.

A new status, outcome, role or limit is added here and nowhere else, so that the engine, the
store, the API, the web page and the formats can never spell one word two ways.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

# --- the claim ------------------------------------------------------------------------------------
# What the engine decides about a new claim.
EngineStatus = Literal["ready", "held", "refused"]
# Where a stored claim is in its life: the engine's three, then what the biller and payer did.
ClaimStatus = Literal["ready", "held", "refused", "submitted", "paid", "denied", "void"]
CLAIM_STATUSES: Final[tuple[ClaimStatus, ...]] = get_args(ClaimStatus)
# A sent claim is at the payer: changing it takes a replacement (frequency 7) or a void (8).
SENT_STATUSES: Final[tuple[ClaimStatus, ...]] = ("submitted", "paid", "denied")
UNSENT_STATUSES: Final[tuple[ClaimStatus, ...]] = ("ready", "held", "refused")
# Statuses whose 837 may be handed out: a ready claim, or one as it was sent.
SENDABLE_STATUSES: Final[tuple[ClaimStatus, ...]] = ("ready", "submitted", "paid", "denied")
# CLM05-3, the claim frequency type code: original, replacement of a prior claim, void.
FrequencyCode = Literal["1", "7", "8"]
ORIGINAL: Final[FrequencyCode] = "1"
REPLACEMENT: Final[FrequencyCode] = "7"
VOID: Final[FrequencyCode] = "8"

# --- the day ledger -------------------------------------------------------------------------------
DayStatus = Literal["billed", "held", "not_billable"]

# --- findings -------------------------------------------------------------------------------------
Severity = Literal["error", "warning"]
SEVERITY_RANK: Final[dict[Severity, int]] = {"error": 0, "warning": 1}
# What an error finding holds: one day, one record's lines, the whole claim, or refuses it.
Holds = Literal["day", "line", "claim", "refuse", "none"]
# How the worklist groups held work.
WorkKind = Literal["claim", "day", "line"]

# --- lines ----------------------------------------------------------------------------------------
LineKind = Literal["per_diem", "drug", "nursing", "supply"]
RunKind = Literal["continuous", "intermittent"]
# What a per-diem code of the catalog stands for; the engine looks codes up by therapy and kind.
PerDiemKind = Literal["continuous", "intermittent", "implanted", "nonspecific", "other"]
# What the engine uses a modifier of the catalog for; the engine looks modifiers up by use.
NursingUse = Literal[
    "visit",  # a day's nursing, its first two hours
    "additional_hour",  # each further hour (an add-on to the visit code)
]
ModifierUse = Literal[
    "second_concurrent",  # the second per diem on a shared day
    "third_concurrent",  # the third and later per diems on a shared day
    "distinct_service",  # a payer's extra modifier beside the two above
    "infusion_suite",  # given in the provider's ambulatory infusion suite
    "specialized_nurse",  # nursing by a specially trained registered nurse
    "drug_discarded",  # the discarded part of a single-dose container
    "nothing_discarded",  # a single-dose container used up
]

# --- billing runs ---------------------------------------------------------------------------------
RunStatus = Literal["running", "done", "failed"]
# What billing one episode for a period did to its claims.
# payer_changed: what the old payer was sent is voided there, and the new payer gets originals.
RunOutcome = Literal["created", "unchanged", "superseded", "replaced", "payer_changed", "failed"]
RUN_OUTCOMES: Final[tuple[RunOutcome, ...]] = get_args(RunOutcome)

# --- people ---------------------------------------------------------------------------------------
Role = Literal["admin", "biller", "viewer"]
ROLES: Final[tuple[Role, ...]] = get_args(Role)
CHANGING_ROLES: Final[tuple[Role, ...]] = ("admin", "biller")

# --- X12 837P limits (005010X222A1) ---------------------------------------------------------------
MAX_LINES_PER_CLAIM: Final = 50  # loop 2400 repeats at most 50 times per claim
MAX_DIAGNOSES: Final = 12  # HI: ABK plus eleven ABF
MAX_POINTERS: Final = 4  # SV107: four diagnosis pointers a line
MAX_MODIFIERS: Final = 4  # SV101-3..6
CLAIM_ID_LENGTH: Final = 38  # CLM01, the patient control number

# --- remittances (X12 835 005010X221A1) -----------------------------------------------------------
# What the payer's money says about a claim or a line.
RemitState = Literal["paid", "partially_paid", "denied", "reversed", "corrected"]
REMIT_STATES: Final[tuple[RemitState, ...]] = get_args(RemitState)
# CAS01: contractual obligation, patient responsibility, other, payer initiated, correction.
AdjustmentGroup = Literal["CO", "PR", "OA", "PI", "CR"]
ADJUSTMENT_GROUPS: Final[tuple[AdjustmentGroup, ...]] = get_args(AdjustmentGroup)
# What the biller does next about an adjustment code (the CARC/RARC catalog says which).
NextAction = Literal[
    "write_off", "bill_patient", "correct_and_resubmit", "appeal", "get_authorization", "none"
]
NEXT_ACTIONS: Final[tuple[NextAction, ...]] = get_args(NextAction)
# CLP02 of a reversal of an earlier payment; a new CLP for the same claim after it corrects it.
REVERSAL_STATUS: Final = "22"
DENIED_STATUS: Final = "4"
# CO reasons that are the contract's price, written off for good (not a denial to work).
CONTRACTUAL_REASONS: Final = frozenset({"45", "42", "94", "131", "144", "237", "253"})
MAX_CAS_TRIPLES: Final = 6  # CAS02-19: six reason/amount/quantity triples a segment
LINE_CONTROL_LENGTH: Final = 50  # REF02 of REF*6R, the line item control number
