"""A file a biller uploads through a page: its name and text, within the one input limit, or an
error naming the file that the page shows in a sentence."""

from __future__ import annotations

from pathlib import Path

from fastapi import UploadFile

from hitclaims.core.errors import InputError, UnusableInputError
from hitclaims.services.files import MAX_INPUT_BYTES

NAME_LENGTH = 120  # a file name is shown, never trusted: only its last part, cut short


def read_upload(upload: UploadFile | None, choose: str, not_text: str) -> tuple[str, str]:
    """The uploaded file's name and UTF-8 text. `choose` asks for a file when none was chosen;
    `not_text` says what the file should have been when it is not text."""
    if upload is None or not upload.filename:
        raise UnusableInputError(choose, "file")
    name = Path(upload.filename).name[:NAME_LENGTH]
    data = upload.file.read(MAX_INPUT_BYTES + 1)
    if len(data) > MAX_INPUT_BYTES:
        raise InputError(name, None, None, f"the file is larger than {MAX_INPUT_BYTES // (1024 * 1024)} MB")
    if not data.strip():
        raise InputError(name, None, None, "the file is empty")
    try:
        return name, data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(name, None, None, not_text) from None
