"""Rendering and signing a document, the part of issuing it that is all CPU: in threads of the
service's process (``ThreadPress``: they share its interpreter lock, so two of them are not
much faster than one), or in a pool of processes of its own (``ProcessPress``, setting
``DOCUMENTS_PROCESSES``): each keeps its typst compilers and its signer warm, and the service's
process keeps to the database and Kafka. Both give the same bytes for the same job."""

import asyncio
import datetime as dt
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from services.documents.render import Renderer
from services.documents.signing import PadesSigner, Signer, SigningMaterial


@dataclass(frozen=True)
class Job:
    """What ``Renderer.render`` takes, and the signature's place and reason if it is final."""

    kind: Any
    data: dict[str, Any]
    day: dt.date
    verify_url: str | None
    files: dict[str, bytes] | None
    signature: tuple[str, str] | None
    """(location, reason) of a final document's signature; None: unsigned."""


def made(renderer: Renderer, signer: Signer, job: Job) -> tuple[bytes, bytes]:
    """The unsigned PDF of ``job`` and the PDF issued (signed if final)."""
    unsigned = renderer.render(job.kind, job.data, job.day, job.verify_url, job.files)
    if job.signature is None:
        return unsigned, unsigned
    location, reason = job.signature
    return unsigned, signer.sign(unsigned, location=location, reason=reason)


class PressRestarted(RuntimeError):
    """A process of the pool died under a job: the pool was started again and the job is to be
    done again (the document is still pending)."""


class Press(Protocol):
    async def make(self, job: Job) -> tuple[bytes, bytes]: ...

    def close(self) -> None: ...


class ThreadPress:
    """In threads of this process, with the given renderer and signer."""

    def __init__(self, renderer: Renderer, signer: Signer) -> None:
        self.renderer = renderer
        self.signer = signer

    async def make(self, job: Job) -> tuple[bytes, bytes]:
        return await asyncio.to_thread(made, self.renderer, self.signer, job)

    def close(self) -> None:
        pass


_worker: tuple[Renderer, Signer] | None = None
"""A pool process's renderer and signer (``_start``)."""


def _start(font_dir: Path, templates: Path, material: SigningMaterial) -> None:
    global _worker
    _worker = (Renderer(font_dir, templates), PadesSigner(material))


def _make(job: Job) -> tuple[bytes, bytes]:
    assert _worker is not None, "a pool process starts with _start"
    return made(*_worker, job)


def _ready() -> bool:
    return _worker is not None


class ProcessPress:
    """In a pool of ``processes`` processes (started fresh, not forked from this one), each with
    its own renderer and a signer of ``material``."""

    def __init__(self, processes: int, renderer: Renderer, material: SigningMaterial) -> None:
        self.processes = processes
        self._start_args = (renderer.font_dir, renderer.templates, material)
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            self.processes,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start,
            initargs=self._start_args,
        )

    async def warm(self) -> None:
        """Start every process now rather than under the first documents."""
        loop = asyncio.get_running_loop()
        await asyncio.gather(
            *(loop.run_in_executor(self._pool, _ready) for _ in range(self.processes))
        )

    async def make(self, job: Job) -> tuple[bytes, bytes]:
        pool = self._pool
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, _make, job)
        except BrokenProcessPool:
            if self._pool is pool:
                self._pool = self._new_pool()
                pool.shutdown(wait=False, cancel_futures=True)
            raise PressRestarted("proses perender berhenti; dokumen dicoba lagi") from None

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
