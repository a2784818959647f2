"""An independent check of X12 files: pyx12 validates against the 005010 implementation guides.

pyx12's `x12valid` script exit code says nothing about validity (STACK-NOTES §1.2), so this
calls its Python API and reads its JSON error document. Messages become plain sentences with
the line, segment and element they concern, and never a value from the file: an 837 is full of
personal data, and a validation report is the kind of text that gets pasted into tickets. pyx12
puts values into some of its messages ("Segment N3*<street> not found", `len("<name>")`), so
each message is rewritten from a known shape, and one of an unknown shape is replaced by a
sentence built from its error code alone.
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

import pyx12.params
import pyx12.x12n_document


@dataclass(frozen=True)
class X12Problem:
    line: int | None
    segment: str | None
    element: str | None
    message: str

    def sentence(self) -> str:
        where = f"Line {self.line}" if self.line else "The file"
        if self.segment:
            where += f", segment {self.segment}"
        if self.element:
            where += f" element {self.element}"
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class X12Report:
    valid: bool
    problems: tuple[X12Problem, ...]
    acknowledgment: str  # the 999 pyx12 wrote


# pyx12 4.0.0's messages, by shape: what each keeps. Names, ids and paths come from its maps;
# anything that came from the file (a segment's text, an element's value) is left out.
_NAME = r'"[^"\n]*"'
_REF = r"\([A-Z0-9]{2,3}[0-9]{2}(?:-[0-9]{1,2})?\)"
_ELEMENT = rf"(Data element {_NAME} {_REF})"
_SHAPES: Final[tuple[tuple[re.Pattern[str], str], ...]] = tuple(
    (re.compile(pattern, re.DOTALL), replacement)
    for pattern, replacement in (
        # segments and loops
        (r"Segment ([A-Z][A-Z0-9]{1,2})\b.* (not found\.)\s+(Started at /\S*)", r"Segment \1 \2 \3"),
        (r"Segment (?:identifier )?\".*\" is (empty|invalid)", r"A segment is \1"),
        (r"((?:Segment|Loop) [A-Z0-9_]+ found but marked as not used)", r"\1"),
        (r"((?:Segment|Loop) [A-Z0-9_]+ exceeded max count\.\s+Found \d+, should have \d+)", r"\1"),
        (rf"(Mandatory (?:segment|loop) {_NAME} \([A-Z0-9_]+\) missing)", r"\1"),
        (rf"(Too many elements in segment {_NAME} \([A-Z0-9]+\)\. Has \d+, should have \d+)", r"\1"),
        (r"(Syntax Error \([A-Z0-9]+\): [A-Za-z0-9 ,]+)", r"\1"),
        # elements
        (rf"(Mandatory data element {_NAME} {_REF} is missing)", r"\1"),
        (rf"{_ELEMENT} is (marked as Not Used|an invalid composite)", r"\1 is \2"),
        (rf"((?:Mandatory c|C)omposite {_NAME} {_REF} is (?:missing|marked as Not Used))", r"\1"),
        (rf"(Too many sub-elements in composite {_NAME} {_REF})", r"\1"),
        (rf"{_ELEMENT} is too (short|long): len\(.*\) = (\d+) ([<>]) (\d+)",
         r"\1 is too \2: length \3 \4 \5"),
        (rf"{_ELEMENT},? contains an invalid (control character|date|time)", r"\1 contains an invalid \2"),
        (rf"{_ELEMENT} has unnecessary trailing spaces", r"\1 has unnecessary trailing spaces"),
        (rf"{_ELEMENT} (is type \w+, contains an invalid character)", r"\1 \2"),
        (rf"(Data element {_NAME}) with a value of .* (failed to match the regular expression)", r"\1 \2"),
        (rf"\(.*\) is not a valid code for ([^\n]*? {_REF})$", r"The value is not a valid code for \1"),
        (r"(Segment contains (?:a leading space|trailing element terminators))", r"\1"),
        (r"My HL count (\d+) does not match your HL count", r"HL01 does not match pyx12's HL count \1"),
        (r"HL parent \(.*\) is not a valid parent", "HL02 is not a valid parent"),
        (r"(2400/LX01 Service Line Number) .* (does not match my count of \d+)", r"\1 \2"),
        # the envelope
        (r"(SE|GE) count .* is wrong\.\s+I count (\d+)", r"\1 count is wrong (pyx12 counts \2)"),
        (r"IEA count .* is wrong", "IEA count is wrong"),
        (r"(SE|GE|IEA) id=.* does not match (ST|GS|ISA) id", r"\1 control number does not match the \2"),
        (r"(Unterminated (?:Loop|segment))", r"\1"),
        (r"(ISA|GS|ST) (Interchange Control Number) .* (not unique within file)", r"\1 \2 \3"),
        (r"First line does not begin with 'ISA'", "The first line does not begin with ISA"),
        (r"(ISA line is only \d+ characters)", r"\1"),
        (r"(ISA Interchange Control Version Number is unknown)", r"\1"),
        (r"Map not found", "No pyx12 map for this version and transaction set"),
    )
)  # fmt: skip

# When pyx12 words a problem in a shape the table above does not know: the 999 meaning of its
# code (IK304 for segments, IK403 for elements), so that no unknown text is passed through.
_SEGMENT_CODES: Final = {
    "1": "Unrecognized segment ID",
    "2": "Unexpected segment",
    "3": "Required segment missing",
    "4": "Loop occurs over maximum times",
    "5": "Segment exceeds maximum use",
    "6": "Segment not in defined transaction set",
    "7": "Segment not in proper sequence",
    "8": "Segment has data element errors",
}
_ELEMENT_CODES: Final = {
    "1": "Required data element missing",
    "2": "Conditional required data element missing",
    "3": "Too many data elements",
    "4": "Data element too short",
    "5": "Data element too long",
    "6": "Invalid character in data element",
    "7": "Invalid code value",
    "8": "Invalid date",
    "9": "Invalid time",
    "10": "Exclusion condition violated",
    "12": "Too many repetitions",
    "13": "Too many components",
}
_SEGMENT_ID = re.compile(r"[A-Z][A-Z0-9]{1,2}")


def _plain(error: dict[str, Any], codes: dict[str, str]) -> str:
    """pyx12's message for one error, without any value from the file, as a sentence."""
    message = str(error.get("err_str") or "").strip()
    for pattern, replacement in _SHAPES:
        match = pattern.search(message)
        if match:
            return match.expand(replacement).rstrip(".") + "."
    code = str(error.get("err_cde") or "")
    return f"{codes.get(code, 'Error')} (pyx12 error code {code or 'unknown'})."


def _segment_name(segment: dict[str, Any]) -> str:
    """The segment id and its name from the guide; an id that is not an X12 id is not shown."""
    seg_id = str(segment.get("seg_id") or "")
    if not _SEGMENT_ID.fullmatch(seg_id):
        return "(unrecognised)"
    name = segment.get("name")
    return f"{seg_id} ({name})" if name else seg_id


def _element_ref(segment: dict[str, Any], element: dict[str, Any]) -> str | None:
    seg_id = str(segment.get("seg_id") or "")
    pos, sub = element.get("ele_pos"), element.get("subele_pos")
    if not isinstance(pos, int) or not _SEGMENT_ID.fullmatch(seg_id):
        return None
    return f"{seg_id}{pos:02d}" + (f"-{sub}" if isinstance(sub, int) else "")


def _walk(doc: dict[str, Any]) -> Iterator[X12Problem]:
    for isa in doc.get("interchanges", []):
        for error in isa.get("errors", []):
            yield X12Problem(isa.get("cur_line"), "ISA", None, _plain(error, {}))
        for gs in isa.get("groups", []):
            for error in gs.get("errors", []):
                yield X12Problem(gs.get("cur_line"), "GS", None, _plain(error, {}))
            for st in gs.get("transactions", []):
                for error in st.get("errors", []):
                    yield X12Problem(st.get("cur_line"), "ST", None, _plain(error, {}))
                for segment in st.get("segments", []):
                    yield from _segment_problems(segment)


def _segment_problems(segment: dict[str, Any]) -> Iterator[X12Problem]:
    name, line = _segment_name(segment), segment.get("cur_line")
    for error in segment.get("errors", []):
        yield X12Problem(line, name, None, _plain(error, _SEGMENT_CODES))
    for element in segment.get("elements", []):
        ref = _element_ref(segment, element)
        for error in element.get("errors", []):
            yield X12Problem(line, name, ref, _plain(error, _ELEMENT_CODES))


def validate_x12(content: str) -> X12Report:
    """Validate X12 text with pyx12 (837P 005010X222A1, 835 005010X221A1, …)."""
    ack, errors = io.StringIO(), io.StringIO()
    logger = logging.getLogger("pyx12")
    # pyx12 logs every error with its value; the report below says the same without the values.
    previous = (logger.level, logger.propagate, list(logger.handlers))
    logger.handlers = [logging.NullHandler()]
    logger.propagate = False
    try:
        valid = pyx12.x12n_document.x12n_document(
            param=pyx12.params.params(),
            src_file=io.StringIO(content),
            fd_997=ack,
            fd_html=None,
            fd_xmldoc=None,
            fd_json=errors,
            map_path=None,
        )
    except Exception as exc:  # pyx12 raises on unknown maps or broken envelopes
        problem = X12Problem(None, None, None, f"pyx12 could not read the file ({type(exc).__name__}).")
        return X12Report(False, (problem,), "")
    finally:
        logger.setLevel(previous[0])
        logger.propagate = previous[1]
        logger.handlers = previous[2]
    raw = errors.getvalue()
    problems = tuple(_walk(json.loads(raw))) if raw.strip() else ()
    if not valid and not problems:
        problems = (X12Problem(None, None, None, "pyx12 did not recognise this as an X12 interchange."),)
    return X12Report(bool(valid) and not problems, problems, ack.getvalue())
