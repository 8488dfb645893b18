"""Everything of one resident the runtime holds outside the core, and its wipe.

Personal data lives here and only here: the card's certificate, the center
session, the verified documents. All of it is dropped at WIPE; byte buffers
the kiosk owns are overwritten first. :meth:`SessionData.residue` is the check
the wipe runs afterwards — anything it names keeps the kiosk out of service.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from drivers.ports import CardInfo
from kiosk.center.port import CenterSession
from kiosk.core.events import PrintKind


def _zero(buffer: bytearray) -> None:
    buffer[:] = bytes(len(buffer))


@dataclass
class HeldDocument:
    request_id: str
    pages: int
    fee: int
    pdf: bytearray = field(repr=False)


@dataclass
class SessionData:
    card: CardInfo | None = None
    center: CenterSession | None = None
    documents: dict[str, HeldDocument] = field(default_factory=dict)
    jobs: dict[str, PrintKind] = field(default_factory=dict)  # CUPS job id → what it prints
    finished_jobs: set[str] = field(default_factory=set)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def hold(self, request_id: str, pages: int, fee: int, pdf: bytes | bytearray) -> None:
        """Keep a verified document. A ``bytearray`` is kept as it is, not copied (the
        center client hands over its only buffer, which the wipe then zeroes); a
        ``bytes`` is copied, and that immutable original cannot be wiped."""
        buffer = pdf if isinstance(pdf, bytearray) else bytearray(pdf)
        with self.lock:
            self.documents[request_id] = HeldDocument(request_id, pages, fee, buffer)

    def discard(self, request_id: str) -> None:
        with self.lock:
            doc = self.documents.pop(request_id, None)
        if doc is not None:
            _zero(doc.pdf)

    def job_for(self, kind: PrintKind) -> str | None:
        with self.lock:
            return next((j for j, k in self.jobs.items()
                         if k is kind and j not in self.finished_jobs), None)

    def wipe(self) -> list[str]:
        """Drop everything; returns the print job ids that must still be purged."""
        with self.lock:
            for doc in self.documents.values():
                _zero(doc.pdf)
            self.documents.clear()
            self.card = None
            self.center = None
            jobs = list(self.jobs)
            self.jobs.clear()
            self.finished_jobs.clear()
        return jobs

    def residue(self) -> list[str]:
        """What is still held after a wipe (names only, never contents)."""
        with self.lock:
            left = []
            if self.card is not None:
                left.append("card")
            if self.center is not None:
                left.append("center-session")
            if self.documents:
                left.append("documents")
            if self.jobs:
                left.append("print-jobs")
            return left
