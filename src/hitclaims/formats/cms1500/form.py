"""The CMS-1500 (02/12) form as data: its grid, rules, boxes, captions, and where each datum goes.

The form is drawn, not filled in: rules, item numbers and captions in drop-out red, the claim's
data in black Courier on the form's own pica grid (10 characters an inch, 6 lines an inch), so a
page reads as a CMS-1500 and its data would land in the boxes of the red paper form. Every
position is a row of the tables below (BOXES, CAPTIONS, FIELDS, ...), never a number in the code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from reportlab.lib.colors import Color

# --- the grid -----------------------------------------------------------------------------------
# The 1500 is laid out for pica type: 10 characters an inch across, 6 lines an inch down. Columns
# are counted from the form's left rule (edge 0) to its right rule (edge 78); a character column c
# (1-based) is the cell between edges c-1 and c. Rows are 1-based lines of the page.

PAGE_WIDTH: Final = 612.0  # US letter, in points
PAGE_HEIGHT: Final = 792.0
COL: Final = 7.2  # one pica character
ROW: Final = 12.0  # one line at 6 lines an inch
LEFT: Final = 21.6  # the form's left rule, 0.3 inch in
TOP: Final = 24.0  # the top of row 1
FORM_COLS: Final = 78

DATA_FONT: Final = "Courier"
DATA_SIZE: Final = 10.0  # the NUCC's recommended size
COURIER_ADVANCE: Final = 0.6  # Courier's advance width, as a fraction of the font size
# Character spacing that holds 10-point Courier to one pica column a character, so "MM DD YY"
# and "dollars cents" fall between the form's dotted separators; each glyph sits mid-cell.
GRID_SPACING: Final = COL - COURIER_ADVANCE * DATA_SIZE
GLYPH_INSET: Final = GRID_SPACING / 2
MIN_DATA_SIZE: Final = 5.5  # a value too long for its box shrinks down to this, then is cut
BASELINE: Final = 2.8  # data baseline above the bottom of its row
CAPTION_FONT: Final = "Helvetica"
CAPTION_BOLD: Final = "Helvetica-Bold"
CAPTION_SIZE: Final = 5.0

DROP_OUT_RED: Final = Color(0.85, 0.14, 0.16)  # the red the scanners drop out
SHADE: Final = Color(1.0, 0.89, 0.89)  # the pink of the supplemental areas
INK: Final = Color(0, 0, 0)

LINES_PER_PAGE: Final = 6
FIRST_LINE_ROW: Final = 44  # data row of service line 1; its shaded half is the row above
MAX_MODIFIERS: Final = 4
MAX_POINTERS: Final = 4
MAX_DIAGNOSES: Final = 12
FORM_NAME: Final = "cms1500-02-12"


def edge_x(edge: float) -> float:
    """The page x of a column edge."""
    return LEFT + edge * COL


def row_top(row: float) -> float:
    """The page y of the top of a row."""
    return PAGE_HEIGHT - TOP - (row - 1) * ROW


def row_bottom(row: float) -> float:
    return row_top(row) - ROW


# --- the printed form, as data --------------------------------------------------------------------


@dataclass(frozen=True)
class Box:
    """A ruled box: column edges, first and last row, and the caption in its top-left corner."""

    left: float
    right: float
    top: int
    bottom: int
    caption: str = ""


@dataclass(frozen=True)
class Caption:
    """Printed text of the form. `low` sets it on the lower half of its row, near the data."""

    text: str
    edge: float
    row: int
    low: bool = False
    align: Literal["left", "center", "right"] = "left"
    size: float = CAPTION_SIZE
    bold: bool = False


@dataclass(frozen=True)
class Rule:
    """A line between two grid points; dotted ones separate parts of one datum (MM DD YY)."""

    x0: float
    y0: float  # in rows: 1.0 is the top of row 1, 2.0 the top of row 2
    x1: float
    y1: float
    dotted: bool = False


@dataclass(frozen=True)
class Shade:
    left: float
    right: float
    row: int


BOXES: Final[tuple[Box, ...]] = (
    # items 1-13: patient and insured
    Box(0, 48, 7, 8, "1.  MEDICARE"),
    Box(48, 78, 7, 8, "1a. INSURED'S I.D. NUMBER"),
    Box(0, 28, 9, 10, "2. PATIENT'S NAME (Last Name, First Name, Middle Initial)"),
    Box(28, 48, 9, 10, "3. PATIENT'S BIRTH DATE"),
    Box(48, 78, 9, 10, "4. INSURED'S NAME (Last Name, First Name, Middle Initial)"),
    Box(0, 28, 11, 12, "5. PATIENT'S ADDRESS (No., Street)"),
    Box(28, 48, 11, 12, "6. PATIENT RELATIONSHIP TO INSURED"),
    Box(48, 78, 11, 12, "7. INSURED'S ADDRESS (No., Street)"),
    Box(0, 24, 13, 14, "CITY"),
    Box(24, 28, 13, 14, "STATE"),
    Box(28, 48, 13, 16, "8. RESERVED FOR NUCC USE"),
    Box(48, 72, 13, 14, "CITY"),
    Box(72, 78, 13, 14, "STATE"),
    Box(0, 13, 15, 16, "ZIP CODE"),
    Box(13, 28, 15, 16, "TELEPHONE (Include Area Code)"),
    Box(48, 63, 15, 16, "ZIP CODE"),
    Box(63, 78, 15, 16, "TELEPHONE (Include Area Code)"),
    Box(0, 28, 17, 18, "9. OTHER INSURED'S NAME (Last name, First Name, Middle Initial)"),
    Box(28, 48, 17, 18, "10. IS PATIENT'S CONDITION RELATED TO:"),
    Box(48, 78, 17, 18, "11. INSURED'S POLICY GROUP OR FECA NUMBER"),
    Box(0, 28, 19, 20, "a. OTHER INSURED'S POLICY OR GROUP NUMBER"),
    Box(28, 48, 19, 20, "a. EMPLOYMENT? (Current or Previous)"),
    Box(48, 78, 19, 20, "a. INSURED'S DATE OF BIRTH"),
    Box(0, 28, 21, 22, "b. RESERVED FOR NUCC USE"),
    Box(28, 48, 21, 22, "b. AUTO ACCIDENT?"),
    Box(48, 78, 21, 22, "b. OTHER CLAIM ID (Designated by NUCC)"),
    Box(0, 28, 23, 24, "c. RESERVED FOR NUCC USE"),
    Box(28, 48, 23, 24, "c. OTHER ACCIDENT?"),
    Box(48, 78, 23, 24, "c. INSURANCE PLAN NAME OR PROGRAM NAME"),
    Box(0, 28, 25, 26, "d. INSURANCE PLAN NAME OR PROGRAM NAME"),
    Box(28, 48, 25, 26, "10d. CLAIM CODES (Designated by NUCC)"),
    Box(48, 78, 25, 26, "d. IS THERE ANOTHER HEALTH BENEFIT PLAN?"),
    Box(0, 48, 27, 30),
    Box(48, 78, 27, 30),
    # items 14-23: physician or supplier
    Box(0, 28, 31, 32, "14. DATE OF CURRENT ILLNESS, INJURY, or PREGNANCY (LMP)"),
    Box(28, 48, 31, 32, "15. OTHER DATE"),
    Box(48, 78, 31, 32, "16. DATES PATIENT UNABLE TO WORK IN CURRENT OCCUPATION"),
    Box(0, 28, 33, 34, "17. NAME OF REFERRING PROVIDER OR OTHER SOURCE"),
    Box(28, 48, 33, 33),
    Box(28, 48, 34, 34),
    Box(48, 78, 33, 34, "18. HOSPITALIZATION DATES RELATED TO CURRENT SERVICES"),
    Box(0, 48, 35, 36, "19. ADDITIONAL CLAIM INFORMATION (Designated by NUCC)"),
    Box(48, 78, 35, 36, "20. OUTSIDE LAB?"),
    Box(
        0, 48, 37, 40, "21. DIAGNOSIS OR NATURE OF ILLNESS OR INJURY   Relate A-L to service line below (24E)"
    ),
    Box(48, 78, 37, 38, "22. RESUBMISSION"),
    Box(48, 78, 39, 40, "23. PRIOR AUTHORIZATION NUMBER"),
    # item 24: header and six lines
    Box(0, 78, 41, 54),
    Box(0, 78, 41, 42),
    # items 25-33
    Box(0, 21, 55, 56, "25. FEDERAL TAX I.D. NUMBER"),
    Box(21, 37, 55, 56, "26. PATIENT'S ACCOUNT NO."),
    Box(37, 48, 55, 56, "27. ACCEPT ASSIGNMENT?"),
    Box(48, 60, 55, 56, "28. TOTAL CHARGE"),
    Box(60, 70, 55, 56, "29. AMOUNT PAID"),
    Box(70, 78, 55, 56, "30. Rsvd for NUCC Use"),
    Box(0, 21, 57, 61, "31. SIGNATURE OF PHYSICIAN OR SUPPLIER"),
    Box(21, 48, 57, 60, "32. SERVICE FACILITY LOCATION INFORMATION"),
    Box(48, 78, 57, 60, "33. BILLING PROVIDER INFO & PH #"),
    Box(21, 34, 61, 61),
    Box(34, 48, 61, 61),
    Box(48, 62, 61, 61),
    Box(62, 78, 61, 61),
)

# Each service line: a rule under it, column rules in its unshaded half (24A-24G) and down the
# whole line for 24H-24J, whose shaded half holds the qualifier and other id of the provider.
LINE_COLUMN_EDGES: Final = (18.0, 21.0, 24.0, 31.0, 44.0, 48.0, 58.0)
LINE_FULL_EDGES: Final = (62.0, 64.0, 67.0)
LINE_DOTTED_EDGES: Final = (2.5, 5.5, 9.0, 11.5, 14.5, 33.5, 36.5, 39.5, 54.5)
HEADER_EDGES: Final = (18.0, 21.0, 24.0, 44.0, 48.0, 58.0, 62.0, 64.0, 67.0)
HEADER_ROWS: Final = (41, 42)  # item 24's column titles
LINE_NPI_EDGE: Final = 64.3  # "NPI" printed in the unshaded half of 24I
LINE_NUMBER_EDGE: Final = -0.3  # the line numbers 1-6 in the left margin, right aligned here
LINE_NUMBER_SIZE: Final = 9.0
FRAME_ROWS: Final = (7, 61)  # the heavy rule around items 1 to 33

CAPTIONS: Final[tuple[Caption, ...]] = (
    # heading and carrier block
    Caption("1500", 0.0, 2, low=True, size=22.0, bold=True),
    Caption("HEALTH INSURANCE CLAIM FORM", 0.0, 4, low=True, size=12.0, bold=True),
    Caption("APPROVED BY NATIONAL UNIFORM CLAIM COMMITTEE (NUCC) 02/12", 0.0, 5, low=True, size=5.5),
    Caption("PICA", 0.0, 6, low=True, size=6.0),
    Caption("PICA", 76.6, 6, low=True, size=6.0, align="right"),
    # item 1
    Caption("MEDICAID", 7.0, 7),
    Caption("TRICARE", 14.0, 7),
    Caption("CHAMPVA", 23.0, 7),
    Caption("GROUP", 30.0, 7),
    Caption("HEALTH PLAN", 30.0, 7, low=True),
    Caption("FECA", 38.0, 7),
    Caption("BLK LUNG", 38.0, 7, low=True),
    Caption("OTHER", 44.0, 7),
    Caption("(Medicare#)", 1.3, 8, low=True),
    Caption("(Medicaid#)", 8.3, 8, low=True),
    Caption("(ID#/DoD#)", 15.3, 8, low=True),
    Caption("(Member ID#)", 24.3, 8, low=True),
    Caption("(ID#)", 31.3, 8, low=True),
    Caption("(ID#)", 39.3, 8, low=True),
    Caption("(ID#)", 45.3, 8, low=True),
    Caption("(For Program in Item 1)", 77.8, 7, align="right"),
    # items 3, 6, 11a: date parts and check-box captions
    Caption("MM", 31.0, 9, low=True, align="center"),
    Caption("DD", 34.0, 9, low=True, align="center"),
    Caption("YY", 38.0, 9, low=True, align="center"),
    Caption("SEX", 43.5, 9, low=True, align="center"),
    Caption("M", 40.8, 10, low=True, align="right"),
    Caption("F", 45.8, 10, low=True, align="right"),
    Caption("Self", 31.8, 12, low=True, align="right"),
    Caption("Spouse", 36.8, 12, low=True, align="right"),
    Caption("Child", 40.8, 12, low=True, align="right"),
    Caption("Other", 45.8, 12, low=True, align="right"),
    Caption("(", 13.6, 16, low=True, size=10.0),
    Caption(")", 17.2, 16, low=True, size=10.0),
    Caption("(", 63.6, 16, low=True, size=10.0),
    Caption(")", 67.2, 16, low=True, size=10.0),
    Caption("MM", 53.0, 19, low=True, align="center"),
    Caption("DD", 56.0, 19, low=True, align="center"),
    Caption("YY", 60.0, 19, low=True, align="center"),
    Caption("SEX", 71.0, 19, low=True, align="center"),
    Caption("M", 66.8, 20, low=True, align="right"),
    Caption("F", 73.8, 20, low=True, align="right"),
    # item 10 and 11d
    Caption("YES", 33.8, 20, low=True, align="right"),
    Caption("NO", 39.8, 20, low=True, align="right"),
    Caption("YES", 33.8, 22, low=True, align="right"),
    Caption("NO", 39.8, 22, low=True, align="right"),
    Caption("PLACE (State)", 42.3, 21, low=True),
    Caption("YES", 33.8, 24, low=True, align="right"),
    Caption("NO", 39.8, 24, low=True, align="right"),
    Caption("YES", 50.8, 26, low=True, align="right"),
    Caption("NO", 55.8, 26, low=True, align="right"),
    Caption("If yes, complete items 9, 9a, and 9d.", 58.2, 26, low=True, size=4.5),
    # items 12 and 13
    Caption("READ BACK OF FORM BEFORE COMPLETING & SIGNING THIS FORM.", 24.0, 27, align="center", bold=True),
    Caption(
        "12. PATIENT'S OR AUTHORIZED PERSON'S SIGNATURE  I authorize the release of any medical or other"
        " information necessary",
        0.2,
        27,
        low=True,
        size=4.6,
    ),
    Caption(
        "to process this claim. I also request payment of government benefits either to myself or to the"
        " party who accepts assignment",
        0.2,
        28,
        size=4.6,
    ),
    Caption("below.", 0.2, 28, low=True, size=4.6),
    Caption("SIGNED", 0.2, 30, low=True),
    Caption("DATE", 30.2, 30, low=True),
    Caption("13. INSURED'S OR AUTHORIZED PERSON'S SIGNATURE  I authorize", 48.2, 27, size=4.6),
    Caption(
        "payment of medical benefits to the undersigned physician or supplier for",
        48.2,
        27,
        low=True,
        size=4.6,
    ),
    Caption("services described below.", 48.2, 28, size=4.6),
    Caption("SIGNED", 48.2, 30, low=True),
    # items 14-18
    Caption("MM", 2.0, 31, low=True, align="center"),
    Caption("DD", 5.0, 31, low=True, align="center"),
    Caption("YY", 9.0, 31, low=True, align="center"),
    Caption("QUAL.", 13.2, 32, low=True),
    Caption("QUAL.", 28.3, 32, low=True),
    Caption("MM", 38.0, 31, low=True, align="center"),
    Caption("DD", 41.0, 31, low=True, align="center"),
    Caption("YY", 45.0, 31, low=True, align="center"),
    Caption("FROM", 48.4, 32, low=True),
    Caption("TO", 63.4, 32, low=True),
    Caption("FROM", 48.4, 34, low=True),
    Caption("TO", 63.4, 34, low=True),
    Caption("17a.", 28.2, 33, low=True),
    Caption("17b.", 28.2, 34, low=True),
    Caption("NPI", 30.2, 34, low=True),
    Caption("YES", 50.8, 36, low=True, align="right"),
    Caption("NO", 55.8, 36, low=True, align="right"),
    Caption("$ CHARGES", 61.0, 35),
    # items 21-23
    Caption("ICD Ind.", 40.6, 37, low=True, align="right"),
    Caption("A.", 0.3, 38, low=True),
    Caption("B.", 13.3, 38, low=True),
    Caption("C.", 26.3, 38, low=True),
    Caption("D.", 39.3, 38, low=True),
    Caption("E.", 0.3, 39, low=True),
    Caption("F.", 13.3, 39, low=True),
    Caption("G.", 26.3, 39, low=True),
    Caption("H.", 39.3, 39, low=True),
    Caption("I.", 0.3, 40, low=True),
    Caption("J.", 13.3, 40, low=True),
    Caption("K.", 26.3, 40, low=True),
    Caption("L.", 39.3, 40, low=True),
    Caption("CODE", 48.2, 37, low=True),
    Caption("ORIGINAL REF. NO.", 61.2, 37),
    # item 24 header
    Caption("24. A.", 0.2, 41),
    Caption("DATE(S) OF SERVICE", 9.0, 41, align="center"),
    Caption("From", 4.5, 41, low=True, align="center"),
    Caption("To", 13.5, 41, low=True, align="center"),
    Caption("MM", 1.0, 42, low=True, align="center"),
    Caption("DD", 4.0, 42, low=True, align="center"),
    Caption("YY", 7.0, 42, low=True, align="center"),
    Caption("MM", 10.0, 42, low=True, align="center"),
    Caption("DD", 13.0, 42, low=True, align="center"),
    Caption("YY", 16.0, 42, low=True, align="center"),
    Caption("B.", 18.2, 41),
    Caption("PLACE OF", 19.5, 41, low=True, align="center", size=4.0),
    Caption("SERVICE", 19.5, 42, align="center", size=4.0),
    Caption("C.", 21.2, 41),
    Caption("EMG", 22.5, 42, align="center", size=4.5),
    Caption("D. PROCEDURES, SERVICES, OR SUPPLIES", 24.2, 41),
    Caption("(Explain Unusual Circumstances)", 26.0, 41, low=True),
    Caption("CPT/HCPCS", 27.5, 42, low=True, align="center"),
    Caption("MODIFIER", 37.5, 42, low=True, align="center"),
    Caption("E.", 44.2, 41),
    Caption("DIAGNOSIS", 46.0, 41, low=True, align="center", size=4.0),
    Caption("POINTER", 46.0, 42, align="center", size=4.0),
    Caption("F.", 48.2, 41),
    Caption("$ CHARGES", 53.0, 42, align="center"),
    Caption("G.", 58.2, 41),
    Caption("DAYS", 60.0, 41, low=True, align="center", size=4.5),
    Caption("OR", 60.0, 42, align="center", size=4.5),
    Caption("UNITS", 60.0, 42, low=True, align="center", size=4.5),
    Caption("H.", 62.2, 41),
    Caption("EPSDT", 63.0, 41, low=True, align="center", size=3.6),
    Caption("Family", 63.0, 42, align="center", size=3.6),
    Caption("Plan", 63.0, 42, low=True, align="center", size=3.6),
    Caption("I.", 64.2, 41),
    Caption("ID.", 65.5, 41, low=True, align="center", size=4.5),
    Caption("QUAL.", 65.5, 42, align="center", size=4.5),
    Caption("J.", 67.2, 41),
    Caption("RENDERING", 72.5, 41, low=True, align="center"),
    Caption("PROVIDER ID. #", 72.5, 42, align="center"),
    # items 25-33
    Caption("SSN", 16.5, 55, low=True, align="center", size=4.5),
    Caption("EIN", 18.5, 55, low=True, align="center", size=4.5),
    Caption("(For govt. claims, see back)", 37.3, 55, low=True, size=4.0),
    Caption("YES", 38.8, 56, low=True, align="right"),
    Caption("NO", 43.8, 56, low=True, align="right"),
    Caption("$", 48.4, 56, low=True, size=7.0),
    Caption("$", 60.4, 56, low=True, size=7.0),
    Caption("INCLUDING DEGREES OR CREDENTIALS", 0.2, 57, low=True, size=4.6),
    Caption("(I certify that the statements on the reverse", 0.2, 58, size=4.6),
    Caption("apply to this bill and are made a part thereof.)", 0.2, 58, low=True, size=4.6),
    Caption("SIGNED", 0.2, 61, low=True),
    Caption("DATE", 12.2, 61, low=True),
    Caption("(", 63.6, 57, low=True, size=10.0),
    Caption(")", 67.2, 57, low=True, size=10.0),
    Caption("a.", 21.2, 61, low=True),
    Caption("b.", 34.2, 61, low=True),
    Caption("a.", 48.2, 61, low=True),
    Caption("b.", 62.2, 61, low=True),
    # footer
    Caption("NUCC Instruction Manual available at: www.nucc.org", 0.0, 62, low=True, size=5.5, bold=True),
    Caption("PLEASE PRINT OR TYPE", 39.0, 62, low=True, align="center", size=7.0, bold=True),
    Caption(
        "APPROVED OMB-0938-1197 FORM 1500 (02-12)", 78.0, 62, low=True, align="right", size=5.5, bold=True
    ),
)

# Check boxes of the form, by the character cell their X goes in: (column, row).
CHECK_BOXES: Final[tuple[tuple[int, int], ...]] = (
    (1, 8), (8, 8), (15, 8), (24, 8), (31, 8), (39, 8), (45, 8),  # 1
    (42, 10), (47, 10),  # 3 sex
    (33, 12), (38, 12), (42, 12), (47, 12),  # 6
    (35, 20), (41, 20), (35, 22), (41, 22), (35, 24), (41, 24),  # 10a-c
    (68, 20), (75, 20),  # 11a sex
    (52, 26), (57, 26),  # 11d
    (52, 36), (57, 36),  # 20
    (17, 56), (19, 56),  # 25
    (40, 56), (45, 56),  # 27
    (4, 6), (78, 6),  # PICA
)  # fmt: skip

RULES: Final[tuple[Rule, ...]] = (
    # dotted separators inside dates, qualifiers and money
    Rule(32.5, 10.0, 32.5, 11.0, dotted=True),
    Rule(35.5, 10.0, 35.5, 11.0, dotted=True),
    Rule(54.5, 20.0, 54.5, 21.0, dotted=True),
    Rule(57.5, 20.0, 57.5, 21.0, dotted=True),
    Rule(2.5, 34.0, 2.5, 35.0, dotted=True),
    Rule(32.0, 33.0, 32.0, 34.0, dotted=True),
    Rule(40.7, 37.2, 40.7, 38.0, dotted=True),
    Rule(42.3, 37.2, 42.3, 38.0, dotted=True),
    Rule(60.0, 38.0, 60.0, 39.0, dotted=True),
    Rule(55.5, 56.0, 55.5, 57.0, dotted=True),
    Rule(65.5, 56.0, 65.5, 57.0, dotted=True),
    Rule(63.0, 36.0, 63.0, 37.0, dotted=True),
    # signature lines
    Rule(3.5, 31.0, 29.0, 31.0),
    Rule(32.5, 31.0, 47.0, 31.0),
    Rule(51.5, 31.0, 77.0, 31.0),
    # diagnosis slots, A-L
    *(
        Rule(1.5 + 13 * col, 39.0 + line, 11.5 + 13 * col, 39.0 + line, dotted=True)
        for line in range(3)
        for col in range(4)
    ),
)

SHADES: Final[tuple[Shade, ...]] = (
    Shade(28, 48, 33),  # 17a
    Shade(34, 48, 61),  # 32b
    Shade(62, 78, 61),  # 33b
    *(Shade(0, 78, FIRST_LINE_ROW - 1 + 2 * i) for i in range(LINES_PER_PAGE)),
)

# The brackets in the right margin that name the form's three parts: (text, first row, last row).
SIDE_LABELS: Final = (
    ("CARRIER", 1, 6),
    ("PATIENT AND INSURED INFORMATION", 7, 30),
    ("PHYSICIAN OR SUPPLIER INFORMATION", 31, 61),
)


# --- where the data goes ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """One datum's place: its row, first character column and width in characters."""

    row: int
    col: int
    width: int
    align: Literal["left", "right"] = "left"


FIELDS: Final[dict[str, Field]] = {
    "page": Field(1, 58, 21, "right"),
    "payer_name": Field(2, 41, 37),
    "1a_insured_id": Field(8, 50, 29),
    "2_patient_name": Field(10, 1, 28),
    "3_birth_date": Field(10, 31, 10),
    "4_insured_name": Field(10, 50, 29),
    "5_street": Field(12, 1, 28),
    "7_street": Field(12, 50, 29),
    "5_city": Field(14, 1, 23),
    "5_state": Field(14, 26, 2),
    "7_city": Field(14, 50, 22),
    "7_state": Field(14, 74, 2),
    "5_zip": Field(16, 1, 12),
    "5_area_code": Field(16, 15, 3),
    "5_phone": Field(16, 19, 9),
    "7_zip": Field(16, 50, 13),
    "7_area_code": Field(16, 65, 3),
    "7_phone": Field(16, 69, 9),
    "11_group_number": Field(18, 50, 29),
    "11a_birth_date": Field(20, 53, 10),
    "11c_plan_name": Field(24, 50, 29),
    "17_qualifier": Field(34, 1, 2),
    "17_name": Field(34, 4, 25),
    "17b_npi": Field(34, 33, 15),
    "21_icd_indicator": Field(37, 42, 1),
    "22_code": Field(38, 50, 10),
    "22_original_ref": Field(38, 62, 17),
    "23_prior_auth": Field(40, 50, 29),
    "25_tax_id": Field(56, 1, 15),
    "26_account": Field(56, 22, 16),
    "28_total": Field(56, 49, 10, "right"),
    "28_continued": Field(56, 50, 7),
    "33_area_code": Field(57, 65, 3),
    "33_phone": Field(57, 69, 10),
    "33_name": Field(58, 49, 30),
    "33_street": Field(59, 49, 30),
    "33_city": Field(60, 49, 30),
    "33a_npi": Field(61, 50, 12),
    "33b_other_id": Field(61, 64, 15),
}

# Item 21: A-D on the first line, E-H on the second, I-L on the third.
DIAGNOSIS_FIELDS: Final[tuple[Field, ...]] = tuple(
    Field(38 + i // 4, 3 + 13 * (i % 4), 10) for i in range(MAX_DIAGNOSES)
)

# Check boxes: for each item, the cell of each answer's X.
CHOICES: Final[dict[str, dict[str, Field]]] = {
    "1_insurance_type": {
        "medicare": Field(8, 1, 1),
        "medicaid": Field(8, 8, 1),
        "tricare": Field(8, 15, 1),
        "champva": Field(8, 24, 1),
        "group": Field(8, 31, 1),
        "feca": Field(8, 39, 1),
        "other": Field(8, 45, 1),
    },
    "3_sex": {"M": Field(10, 42, 1), "F": Field(10, 47, 1)},
    "6_relationship": {
        "self": Field(12, 33, 1),
        "spouse": Field(12, 38, 1),
        "child": Field(12, 42, 1),
        "other": Field(12, 47, 1),
    },
    "11a_sex": {"M": Field(20, 68, 1), "F": Field(20, 75, 1)},
    "25_id_type": {"SSN": Field(56, 17, 1), "EIN": Field(56, 19, 1)},
}

# Item 24, per service line: `row` is relative to the line's data row; -1 is its shaded half.
LINE_FIELDS: Final[dict[str, Field]] = {
    "supplemental": Field(-1, 1, 62),
    "from": Field(0, 1, 8),
    "to": Field(0, 10, 8),
    "place_of_service": Field(0, 19, 2),
    "code": Field(0, 25, 6),
    "modifier_1": Field(0, 32, 2),
    "modifier_2": Field(0, 35, 2),
    "modifier_3": Field(0, 38, 2),
    "modifier_4": Field(0, 41, 2),
    "pointers": Field(0, 45, 4),
    "charges": Field(0, 48, 10, "right"),
    "units": Field(0, 59, 4),
}
