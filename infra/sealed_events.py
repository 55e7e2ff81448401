"""Facts stored with each data subject's personal text encrypted under that subject's own key.

The mapper writes a fact as its JSON with every personal text (domain/personal.py) taken out and
left as null, and beside it one sealed box per data subject: the subject's texts, encrypted with
AES-256-GCM under the subject's data key (infra/keys.py), bound to the fact's aggregate, version
and subject so a box cannot be moved to another fact. Where each text stood is kept in the clear
(field names and list indices only), so a fact whose subject's key was destroyed still decodes:
its texts read as `ERASED` with a short mark per subject (`erased_text`), so that two erased
employees stay two.

Facts written before sealing (plain JSON) still read as they are.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections import defaultdict
from functools import cache
from typing import TYPE_CHECKING, Any
from uuid import UUID

from pydantic_core import from_json

from domain.bounds import from_log, from_log_json
from domain.model import PydanticMapper
from domain.personal import Path, Subject, personal_text
from infra.keys import Keys, seal, unseal

if TYPE_CHECKING:
    from infra.new_keys import NewKeys

SEALED = "$sealed"
FORMAT = 1
ERASED = "⟨slettet⟩"
"""What an erased text reads as (followed by a short mark of its subject)."""


_STRETCH = 200
"""Facts decoded with one read of the keys they lack: measured on a rebuild, a few hundred parsed facts
held at once cost the garbage collector less than the reads they save, a whole batch of thousands more."""

EMPLOYEE_SUBJECTS = "system:employee-subjects"
"""The key store's subject whose key names employees' data subjects (`employee_subject_key`)."""


def employee_digest_key(citizen_key: bytes) -> bytes:
    """The key that named employees' data subjects before it was kept in the key store: derived from
    the citizen key under a label of its own."""
    return hmac.new(citizen_key, b"vaern employee data subject", hashlib.sha256).digest()


def employee_subject_key(keys: Keys, citizen_keys: list[bytes]) -> bytes:
    """The key that turns an employee's user id into the name of their data subject.

    Every sealed fact names its employees' subjects by it, and erasing an employee destroys the key
    of that name: so it must never change, not even when the citizen key is rotated. It is kept in
    the key store (wrapped under the master key, like every data key), made on first use from the
    citizen key that named the subjects until then: of `citizen_keys` (the current key, then the
    previous ones) the oldest, as a rotation under way when this was first run began from it.
    """
    return keys.data_key(EMPLOYEE_SUBJECTS, initial=employee_digest_key(citizen_keys[-1]))


class SealingMapper(PydanticMapper):
    """A PydanticMapper that seals each data subject's personal text under the subject's key."""

    keys: Keys
    employee_key: bytes
    _employees: dict[str, str]
    new_keys: NewKeys | None = None  # during a save, keys of subjects without one (infra/new_keys.py)

    @classmethod
    def over(cls, mapper: PydanticMapper, keys: Keys, employee_key: bytes) -> SealingMapper:
        """`mapper` sealing with `keys`, naming employees' subjects by `employee_key` (`employee_subject_key`)."""
        sealing = cls(transcoder=mapper.transcoder, compressor=mapper.compressor, cipher=mapper.cipher)
        sealing.keys, sealing.employee_key = keys, employee_key
        sealing._employees = {}  # user id -> subject: there are a few thousand employees at most
        return sealing

    def warm(self) -> None:
        """Reads the data keys into the key store's cache at once, where the store can (before a long read)."""
        warm = getattr(self.keys, "warm", None)
        if warm is not None:
            warm()

    def subject_id(self, subject: Subject) -> str:
        """The key store's name for `subject`: an employee by a keyed digest of their user id, never the id."""
        if subject.kind != "employee":
            return f"{subject.kind}:{subject.id}"
        found = self._employees.get(subject.id)
        if found is None:
            digest = hmac.new(self.employee_key, subject.id.encode("utf-8"), hashlib.sha256).hexdigest()[:32]
            found = self._employees[subject.id] = f"employee:{digest}"
        return found

    def erased_employee(self, user_id: str) -> str:
        """What every text of the employee with `user_id` reads as once their key is destroyed."""
        return erased_text(self.subject_id(Subject("employee", user_id)))

    def encode(self, domain_event: Any) -> bytes:
        """The stored JSON of `domain_event`, its personal text sealed per subject."""
        public = domain_event.model_dump(mode="json")
        texts: dict[str, list[tuple[Path, str]]] = defaultdict(list)
        for path, text, subject in personal_text(domain_event):
            texts[self.subject_id(subject)].append((path, text))
            _put(public, path, None)
        boxes = {
            subject: {"paths": [list(p) for p, _ in found], "box": self._box(domain_event, subject, [t for _, t in found])}
            for subject, found in texts.items()
        }
        return json.dumps({SEALED: FORMAT, "public": public, "boxes": boxes}, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def _box(self, event: Any, subject: str, texts: list[str]) -> str:
        plain = json.dumps(texts, ensure_ascii=False).encode("utf-8")
        creates = event.originator_version == 1 and subject.endswith(f":{event.originator_id}")
        key = self.new_keys.key(subject, creates) if self.new_keys is not None else None
        sealed = seal(key or self.keys.data_key(subject), plain, _aad(event.originator_id, event.originator_version, subject))
        return base64.b64encode(sealed).decode("ascii")

    def decode(self, model: type[Any], stored_event: Any) -> Any:
        """`stored_event` decoded as `model` (the event's class, or a model of some of its fields)."""
        return self.decode_all([(model, stored_event)])[0]

    def decode_all(self, wanted: list[tuple[type[Any], Any]]) -> list[Any]:
        """Each stored event decoded as its model, the keys they need and the cache lacks read at once for
        every few hundred of them (a short stretch: parsed facts held longer cost more in garbage collection
        than the reads saved)."""
        read_ahead = getattr(self.keys, "read_ahead", None)
        decoded: list[Any] = []
        for start in range(0, len(wanted), _STRETCH):
            stretch = wanted[start:start + _STRETCH]
            opened = [self._parse(model, stored) for model, stored in stretch]
            if read_ahead is not None:
                read_ahead(subject for _, subjects in opened for subject in subjects)
            decoded += [self._open(m, stored, data, subjects) for (m, stored), (data, subjects) in zip(stretch, opened)]
        return decoded

    def _parse(self, model: type[Any], stored: Any) -> tuple[Any, list[str]]:
        """The stored JSON parsed (its bytes, if stored in clear), and the subjects whose text `model` reads."""
        state = self.plain(stored.state)
        if not state.startswith(b'{"' + SEALED.encode()):
            return state, []
        data = from_json(state)  # pydantic's parser: twice as fast as json.loads on a fact, ten times on a box
        fields = _field_names(model)
        # A subject none of whose text the model reads (a part of the fact) is not opened, its key not even read.
        subjects = [s for s, box in data["boxes"].items() if any(path[0] in fields for path in box["paths"])]
        return data, subjects

    def _open(self, model: type[Any], stored: Any, data: Any, subjects: list[str]) -> Any:
        """The event, its subjects' texts opened (or marked erased) and put back where they stood."""
        if isinstance(data, bytes):
            return from_log_json(model, data)
        public, boxes = data["public"], data["boxes"]
        for subject in subjects:
            box = boxes[subject]
            key = self.keys.existing_key(subject)
            if key is None:
                texts = [erased_text(subject)] * len(box["paths"])
            else:
                aad = _aad(stored.originator_id, stored.originator_version, subject)
                texts = from_json(unseal(key, base64.b64decode(box["box"]), aad))
            for path, text in zip(box["paths"], texts):
                _put(public, path, text)
        return from_log(model, public)


@cache
def _field_names(model: type[Any]) -> frozenset[str]:
    """The fields of an event class or part (pydantic's `model_fields` is built afresh on every access)."""
    return frozenset(model.model_fields)


def _aad(originator_id: UUID, version: int, subject: str) -> bytes:
    return f"{originator_id}/{version}/{subject}".encode("utf-8")


def erased_text(subject: str) -> str:
    """What each text of `subject` reads as once the subject's key is destroyed."""
    return f"{ERASED} {hashlib.sha256(subject.encode('utf-8')).hexdigest()[:8]}"


def _put(data: Any, path: Path | list[str | int], value: Any) -> None:
    for step in path[:-1]:
        data = data[step]
    data[path[-1]] = value
