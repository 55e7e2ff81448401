"""The media types taken as incident evidence, and the check that a file's bytes are of its declared type.

Evidence is served back to caseworkers, leaders and legal, so what it is stored as matters: only
types fit for evidence are taken, each only when its bytes match (binary types by their magic
numbers through `filetype`, text and e-mail by being readable text), and a type is named by its
canonical name whatever alias the uploader used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import filetype

from api.problems import UnsupportedMediaType


@dataclass(frozen=True)
class EvidenceType:
    """A media type taken as evidence: its canonical name, file extension and the sniffed types it may be."""

    name: str
    extension: str
    sniffed_as: tuple[str, ...] = ()  # `filetype` matchers; empty for text, which has no magic number


_ISO_MEDIA = ("video/mp4", "audio/mp4", "video/quicktime", "video/x-m4v", "video/3gpp")  # one container family
TYPES = {
    t.name: t
    for t in (
        EvidenceType("application/pdf", "pdf", ("application/pdf",)),
        EvidenceType("image/png", "png", ("image/png",)),
        EvidenceType("image/jpeg", "jpg", ("image/jpeg",)),
        EvidenceType("image/gif", "gif", ("image/gif",)),
        EvidenceType("image/webp", "webp", ("image/webp",)),
        EvidenceType("image/heic", "heic", ("image/heic",)),
        EvidenceType("audio/mpeg", "mp3", ("audio/mpeg",)),
        EvidenceType("audio/mp4", "m4a", _ISO_MEDIA),
        EvidenceType("audio/wav", "wav", ("audio/x-wav",)),
        EvidenceType("video/mp4", "mp4", _ISO_MEDIA),
        EvidenceType("video/quicktime", "mov", _ISO_MEDIA),
        EvidenceType("text/plain", "txt"),
        EvidenceType("message/rfc822", "eml"),
    )
}
ALIASES = {
    "image/jpg": "image/jpeg",
    "image/heif": "image/heic",
    "audio/mp3": "audio/mpeg",
    "audio/x-m4a": "audio/mp4",
    "audio/m4a": "audio/mp4",
    "audio/x-wav": "audio/wav",
    "audio/wave": "audio/wav",
    "audio/vnd.wave": "audio/wav",
}
FIELD = "Content-Type"
_SNIFF_BYTES = 8192
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")  # tab, line breaks and form feed are text
_HEADER_LINE = re.compile(rb"^[\x21-\x39\x3b-\x7e]+:[ \t]")  # RFC 5322 field name, colon, then the value


def declared(content_type: str | None) -> EvidenceType:
    """The evidence type a Content-Type header names; UnsupportedMediaType if none or not one taken."""
    name = (content_type or "").split(";")[0].strip().lower()
    found = TYPES.get(ALIASES.get(name, name))
    if found is None:
        taken = ", ".join(TYPES)
        raise UnsupportedMediaType(FIELD, f"send the file's media type, one of: {taken}")
    return found


def check(kind: EvidenceType, content: bytes) -> None:
    """Refuses `content` unless its bytes are of the type declared."""
    head = content[:_SNIFF_BYTES]
    if kind.sniffed_as:
        ok = any(filetype.get_type(mime=mime).match(head) for mime in kind.sniffed_as)
    else:
        ok = _is_text(content) and (kind.name != "message/rfc822" or _HEADER_LINE.match(content) is not None)
    if not ok:
        raise UnsupportedMediaType(FIELD, f"the file's bytes are not {kind.name}")


def _is_text(content: bytes) -> bool:
    if filetype.guess(content[:_SNIFF_BYTES]) is not None:  # a known binary format, whatever it decodes as
        return False
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return _CONTROL.search(text) is None


def served_as(stored: str) -> tuple[str, str]:
    """The media type and extension a stored file is served with; octet-stream for one stored unchecked."""
    kind = TYPES.get(stored)
    return (kind.name, kind.extension) if kind else ("application/octet-stream", "bin")
