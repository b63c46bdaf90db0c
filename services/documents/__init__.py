"""The documents service: the SOP's documents as PDFs (Tanda Terima, Lembar Disposisi, Berita
Acara, Surat Tugas), rendered from the events with typst, numbered from its own registers (Buku
Agenda), signed (PAdES) and recorded as ``DocumentIssued`` on ``jejak.documents.events``; anyone
holding the paper checks it on the public verification endpoints.

The parts, from the inside out: ``words`` (dates in Indonesian), ``people`` and ``signature``
(who signs, as what), ``facts`` (a request's events folded), ``builders`` (one pure function per
kind: events to a plain dict), ``numbering`` (the registers), ``render`` (typst), ``signing``
(the ``Signer`` interface, pyHanko), ``store`` and ``issuer`` (the worker that issues), ``api``;
and the inspector's check, ``audit`` (every document re-rendered from Kafka, ``audit_history``,
its stored row and file compared, ``audit_stored``; the command's part in ``audit_cli``).
"""

from pathlib import Path

SQL_DIR = Path(__file__).parent / "sql"
TEMPLATES_DIR = Path(__file__).parent / "templates"
