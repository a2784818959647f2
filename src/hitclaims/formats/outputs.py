"""Every output of a billing result, by name: each one a renderer of the same claims."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from hitclaims.core.claim import Result
from hitclaims.core.provider import Provider
from hitclaims.formats.report import render_text
from hitclaims.formats.result_json import render_json
from hitclaims.formats.x12.claim_837p import write_837
from hitclaims.formats.x12.envelope import default_envelope


@dataclass(frozen=True)
class Output:
    file: str
    render: Callable[[Result, Provider, date], bytes | None]  # None: nothing to write


def _x12(result: Result, provider: Provider, as_of: date) -> bytes | None:
    # Only ready claims go into an 837: held ones are not ready, refused ones never may be sent.
    ready = [c for c in result.claims if c.status == "ready"]
    if not ready:
        return None
    envelope = default_envelope(ready, provider.receiver.id, as_of)
    return write_837(ready, envelope, provider.receiver.name).encode()


def _fhir(result: Result, provider: Provider, as_of: date) -> bytes:
    from hitclaims.formats.fhir.claim_bundle import render_fhir  # fhir.resources: imported when used

    return render_fhir(result.claims).encode()


def _pdf(result: Result, provider: Provider, as_of: date) -> bytes:
    from hitclaims.formats.cms1500.render import render_pdf  # reportlab: imported when used

    return render_pdf(result.claims)


FORMATS: dict[str, Output] = {
    "json": Output("claims.json", lambda r, p, d: render_json(r).encode()),
    "text": Output("report.txt", lambda r, p, d: render_text(r).encode()),
    "x12": Output("claims.837", _x12),
    "fhir": Output("claims.fhir.json", _fhir),
    "pdf": Output("claims.pdf", _pdf),
}


def write_all(result: Result, provider: Provider, as_of: date, folder: Path) -> list[Path]:
    """Write every format into `folder`; returns the files written (an 837 only with ready claims)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for output in FORMATS.values():
        content = output.render(result, provider, as_of)
        path = folder / output.file
        if content is None:
            path.unlink(missing_ok=True)  # never leave yesterday's 837 beside today's claims
            continue
        path.write_bytes(content)
        written.append(path)
    return written
