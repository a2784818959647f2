"""The FHIR code systems, identifier systems and extension URLs hitclaims writes and reads,
and the tables the claim bundle and the episode mappings share (one gender map, one NDC-unit
table), so the two directions and the two bundles cannot drift apart.

Standard systems are used where they exist; identifiers, drug keys, observation codes and
extensions of our own live under https://hitclaims.example/fhir/.
"""

from __future__ import annotations

# --- standard systems ---------------------------------------------------------------------------

NPI = "http://hl7.org/fhir/sid/us-npi"
TIN = "urn:oid:2.16.840.1.113883.4.4"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
NDC = "http://hl7.org/fhir/sid/ndc"
HCPCS = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
CPT = "http://www.ama-assn.org/go/cpt"
POS = "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set"
UCUM = "http://unitsofmeasure.org"
LOINC = "http://loinc.org"
LOINC_PROGRESS_NOTE = "11506-3"
_TERMINOLOGY = "http://terminology.hl7.org/CodeSystem/"
ACT_CODE = _TERMINOLOGY + "v3-ActCode"
ROLE_CODE = _TERMINOLOGY + "v3-RoleCode"
RELATIONSHIP = _TERMINOLOGY + "subscriber-relationship"
COVERAGE_CLASS = _TERMINOLOGY + "coverage-class"
ORGANIZATION_TYPE = _TERMINOLOGY + "organization-type"
CLAIM_TYPE = _TERMINOLOGY + "claim-type"
PROCESS_PRIORITY = _TERMINOLOGY + "processpriority"
CARE_TEAM_ROLE = _TERMINOLOGY + "claimcareteamrole"
TZ_CODE = "http://hl7.org/fhir/StructureDefinition/tz-code"
PRECISION = "http://hl7.org/fhir/StructureDefinition/quantity-precision"

# --- our own systems ----------------------------------------------------------------------------

OURS = "https://hitclaims.example/fhir/"
EPISODE_ID = OURS + "episode-id"
PATIENT_ID = OURS + "patient-id"
PAYER_ID = OURS + "payer-id"
X12_PAYER_ID = OURS + "x12-payer-id"
CLAIM_ID = OURS + "claim-id"
STATUS_TAG = OURS + "claim-status"
RECORD_ID = OURS + "record-id"
RX_NUMBER = OURS + "rx-number"
DRUG_KEY = OURS + "drug-key"
OBSERVATION = OURS + "observation"
NDC_UNIT_SYSTEM = OURS + "ndc-unit"

_EXT = OURS + "StructureDefinition/"
X_DEVICE = _EXT + "therapy-device"
X_ROUTE = _EXT + "therapy-route"
X_SITE = _EXT + "therapy-site"
X_CONCURRENT = _EXT + "concurrent-therapy"
X_PRIOR_AUTH = _EXT + "prior-authorization"
X_MODE = _EXT + "infusion-mode"
X_RATE_TEXT = _EXT + "rate-text"
# The pump log event at an administration's start (start | rate_change | stop) and at its end.
X_PUMP_EVENT = _EXT + "pump-event"
X_PUMP_END = _EXT + "pump-end-event"
X_STOP_ID = _EXT + "pump-stop-event-id"
X_VISIT_DATE = _EXT + "visit-date"
X_AMOUNT = _EXT + "dispensed-amount"
X_ADMINISTERED = _EXT + "administered-amount"
X_SINGLE_DOSE = _EXT + "single-dose"

# DocumentReference.type text of the two kinds of note an episode carries.
PROGRESS_NOTE = "progress-note"
VISIT_NOTE = "nursing-visit-note"

# --- shared tables ------------------------------------------------------------------------------

GENDER = {"F": "female", "M": "male", "U": "unknown"}
SEX = {gender: sex for sex, gender in GENDER.items()}

# NCPDP/837 NDC units as UCUM (code, unit), so a FHIR reader need not know X12's code list.
NDC_UNIT_UCUM = {
    "ML": ("mL", "mL"),
    "GR": ("g", "g"),
    "ME": ("mg", "mg"),
    "F2": ("[iU]", "IU"),
    "UN": ("{unit}", "unit"),
}
# NDC units are also read as UCUM, the way FHIR senders usually write them.
UCUM_NDC_UNIT = {code: unit for unit, (code, _) in NDC_UNIT_UCUM.items()}

# Dispensed drug amounts: the episode's mass units as UCUM codes, and back (mcg is also read as is).
UCUM_MASS = {"mg": "mg", "mcg": "ug", "g": "g"}
MASS_UNIT = {code: unit for unit, code in UCUM_MASS.items()} | {"mcg": "mcg"}

# At one instant the engine applies a stop before a start (per_diem._EVENT_ORDER).
PUMP_EVENT_ORDER = {"stop": 0, "start": 1, "rate_change": 2, "alarm": 3}
