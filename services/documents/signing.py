"""Signing a final PDF (PAdES baseline) behind a small interface, so that the national signing
service (BSrE) can take the place of the department's own certificate later."""

import io
from dataclasses import dataclass
from typing import Protocol

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.signers.pdf_signer import PdfSignatureMetadata
from pyhanko_certvalidator.registry import SimpleCertificateStore

from services.documents.cms_template import TemplateSigner

SIGNATURE_BYTES_RESERVED = 16_384
"""Room kept for the CMS signature. Without it pyHanko signs twice (a dummy signature first, to
measure the room): this halves the signing time (``docs/benchmarks.md``, documents). An ECDSA
signature with a two-certificate chain takes about 2 KB; a national signer's longer chain fits."""


class Signer(Protocol):
    """Signs a PDF; returns the signed PDF (the input followed by an incremental update)."""

    def sign(self, pdf: bytes, *, location: str, reason: str) -> bytes: ...


@dataclass(frozen=True)
class SigningMaterial:
    """A private key, its certificate and the chain above it, in PEM."""

    key_pem: bytes
    cert_pem: bytes
    chain_pem: tuple[bytes, ...] = ()


def _asn1_cert(pem: bytes) -> asn1_x509.Certificate:
    der = x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)
    return asn1_x509.Certificate.load(der)


def split_pem(text: bytes) -> list[bytes]:
    """The certificates of a PEM bundle, each as its own PEM."""
    certificates = x509.load_pem_x509_certificates(text)
    return [c.public_bytes(serialization.Encoding.PEM) for c in certificates]


class PadesSigner:
    """pyHanko with the department's key: an invisible PAdES signature over the whole file."""

    def __init__(self, material: SigningMaterial) -> None:
        key = serialization.load_pem_private_key(material.key_pem, password=None)
        key_der = key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        self._signer = TemplateSigner(
            signing_cert=_asn1_cert(material.cert_pem),
            signing_key=asn1_keys.PrivateKeyInfo.load(key_der),
            cert_registry=SimpleCertificateStore.from_certs(  # type: ignore[no-untyped-call]
                [_asn1_cert(c) for c in material.chain_pem]
            ),
        )

    def sign(self, pdf: bytes, *, location: str, reason: str) -> bytes:
        meta = PdfSignatureMetadata(
            field_name="TandaTanganElektronik",
            subfilter=fields.SigSeedSubFilter.PADES,
            md_algorithm="sha256",
            location=location,
            reason=reason,
        )
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        out = signers.sign_pdf(
            writer, meta, signer=self._signer, bytes_reserved=SIGNATURE_BYTES_RESERVED
        )
        signed: bytes = out.getvalue()
        return signed
