"""An independent check of X12 files: pyx12 validates against the 005010 implementation guides.

pyx12's `x12valid` script exit code says nothing about validity (STACK-NOTES §1.2), so this
calls its Python API and reads its JSON error document. Messages are turned into plain
sentences with the line and segment they concern, without the offending values: an 837 is full
of personal data, and a validation report is the kind of text that gets pasted into tickets.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

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


def _plain(error: dict[str, Any]) -> str:
    message = str(error.get("err_str") or "").strip()
    value = error.get("err_val")
    if value:
        message = (
            message.replace(f" ({value})", "").replace(f'"{value}"', "the value").replace(str(value), "…")
        )
    return message.rstrip(".") + "."


def _walk(doc: dict[str, Any]) -> Iterator[X12Problem]:
    for isa in doc.get("interchanges", []):
        for error in isa.get("errors", []):
            yield X12Problem(isa.get("cur_line"), "ISA", None, _plain(error))
        for gs in isa.get("groups", []):
            for error in gs.get("errors", []):
                yield X12Problem(gs.get("cur_line"), "GS", None, _plain(error))
            for st in gs.get("transactions", []):
                for error in st.get("errors", []):
                    yield X12Problem(st.get("cur_line"), "ST", None, _plain(error))
                for segment in st.get("segments", []):
                    name = f"{segment.get('seg_id')} ({segment.get('name')})"
                    for error in segment.get("errors", []):
                        yield X12Problem(segment.get("cur_line"), name, None, _plain(error))
                    for element in segment.get("elements", []):
                        pos = element.get("ele_pos")
                        sub = element.get("subele_pos")
                        ref = f"{segment.get('seg_id')}{pos:02d}" if isinstance(pos, int) else None
                        if ref and isinstance(sub, int):
                            ref += f"-{sub}"
                        for error in element.get("errors", []):
                            yield X12Problem(segment.get("cur_line"), name, ref, _plain(error))


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
