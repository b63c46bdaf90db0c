"""Rendering with typst (its PyPI wheel; no ``@preview`` package, nothing fetched): one template
per kind in ``templates/``, fed the builder's dict as JSON. Fonts come from one folder only
(Liberation Sans) and are embedded; the PDF's metadata time is the document's date, so the same
data renders the same bytes."""

import datetime as dt
import io
import json
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any, Literal

import segno
import typst

from events.documents import DocumentKind
from services.documents import TEMPLATES_DIR

PDF_STANDARD: Literal["a-2b"] = "a-2b"


class RenderFailed(RuntimeError):
    """The template could not be rendered; the message says why (typst's diagnostic)."""


def qr_svg(url: str) -> str:
    """The QR code of ``url`` as SVG (no XML declaration), for a template's ``image``."""
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", xmldecl=False, border=0)
    return out.getvalue().decode()


class Renderer:
    """Renders each kind with a typst compiler of its own, kept per thread (a compiler keeps
    its fonts and parsed templates between documents)."""

    def __init__(self, font_dir: Path, templates: Path = TEMPLATES_DIR) -> None:
        if not any(font_dir.glob("LiberationSans-*.ttf")):
            raise FileNotFoundError(
                f"no Liberation Sans in {font_dir} (Debian package fonts-liberation)"
            )
        self.font_dir = font_dir
        self.templates = templates
        self._local = threading.local()

    def _compiler(self, kind: DocumentKind) -> typst.Compiler:
        compilers: dict[str, typst.Compiler] = self._local.__dict__.setdefault("compilers", {})
        if kind not in compilers:
            compilers[kind] = typst.Compiler(
                self.templates / f"{kind.lower()}.typ",
                root=self.templates,
                font_paths=[self.font_dir],
                ignore_system_fonts=True,
            )
        return compilers[kind]

    def render(
        self,
        kind: DocumentKind,
        data: dict[str, Any],
        day: dt.date,
        verify_url: str | None,
        files: dict[str, bytes] | None = None,
    ) -> bytes:
        """The unsigned PDF of ``data``; with ``verify_url``, its QR code and the electronic
        signature footer. ``files`` (the case file's documents) are given to the template by
        name, in a folder of their own with a copy of the templates."""
        full = dict(data)
        full["verification"] = (
            {"url": verify_url, "qr": qr_svg(verify_url)} if verify_url is not None else None
        )
        stamp = dt.datetime.combine(day, dt.time(), dt.UTC)
        inputs = {"data": json.dumps(full, ensure_ascii=False, sort_keys=True)}
        try:
            if files is None:
                pdf = self._compiler(kind).compile(
                    sys_inputs=inputs, timestamp=stamp, pdf_standards=[PDF_STANDARD]
                )
            else:
                pdf = self._with_files(kind, files, inputs, stamp)
        except typst.TypstError as error:
            raise RenderFailed(f"typst: {error.message} {error.diagnostic}".strip()) from None
        if not isinstance(pdf, bytes):
            raise RenderFailed("typst returned no single PDF")
        return pdf

    def _with_files(
        self,
        kind: DocumentKind,
        files: dict[str, bytes],
        inputs: dict[str, str],
        stamp: dt.datetime,
    ) -> bytes:
        with tempfile.TemporaryDirectory(prefix="jejak-typst-") as folder:
            root = Path(folder)
            for template in self.templates.glob("*.typ"):
                shutil.copy(template, root / template.name)
            for name, content in files.items():
                (root / Path(name).name).write_bytes(content)
            compiler = typst.Compiler(
                root / f"{kind.lower()}.typ",
                root=root,
                font_paths=[self.font_dir],
                ignore_system_fonts=True,
            )
            # not PDF/A: typst embeds no PDF in that mode (the included documents are, and
            # each stays verifiable on its own)
            pdf = compiler.compile(sys_inputs=inputs, timestamp=stamp)
        if not isinstance(pdf, bytes):
            raise RenderFailed("typst returned no single PDF")
        return pdf
