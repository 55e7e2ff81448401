"""The letter desk: renders a letter to PDF once, stores it, and has the contact file record it.

Which letter may be issued, and its text, is the contact file's to decide (`Vaern.issue_letter`);
the desk only supplies the rendering and the store. An issued letter is never rendered again:
fetching it returns the stored bytes.
"""

from __future__ import annotations

from uuid import UUID

from domain.application import Receipt, Vaern
from domain.contact_file.commands import IssueLetter
from domain.errors import NotFound
from domain.letters.kinds import Letter
from infra.blobs import BlobStore
from infra.keys import citizen_subject
from infra.pdf import MEDIA_TYPE, render_pdf


class LetterDesk:
    """Issues and fetches the letters of contact files."""

    def __init__(self, app: Vaern, blobs: BlobStore) -> None:
        self.app, self.blobs = app, blobs

    def issue(self, command: IssueLetter) -> Receipt:
        """Composes, renders, stores and records one letter; returns the receipt with the letter id.

        The recipient's name and address go into the PDF only: the event records the letter by its hash.
        The PDF is sealed under the citizen's key: destroying it erases the letter.
        """
        return self.app.issue_letter(command, lambda letter: self._store(letter, command.citizen_ref))

    def fetch(self, ref: UUID, letter_id: UUID) -> tuple[bytes, str]:
        """The stored bytes of a letter issued from this file (never a re-rendering)."""
        record = self.app.get_contact_file(ref).letters.get(letter_id)
        if record is None:
            raise NotFound("no such letter on this contact file")
        return self.blobs.get(record.sha256)

    def _store(self, letter: Letter, citizen_ref: UUID) -> str:
        return self.blobs.put(render_pdf(letter), MEDIA_TYPE, subject=citizen_subject(citizen_ref))
