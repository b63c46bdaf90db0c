"""The PAdES CMS built from a template (``services/documents/cms_template.py``) is pyHanko's own
CMS but for the signature value, which verifies; a PDF signed with it passes pyHanko's
validation (intact, valid, whole file, signing-certificate-v2, no signing-time)."""

import asyncio
import datetime as dt
import hashlib
import io
from pathlib import Path
from typing import Any

import pytest
import typst
from asn1crypto import cms, keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from services.documents.cms_template import TemplateSigner
from services.documents.dev_ca import CA_FILE, development_material
from services.documents.signing import PadesSigner


def asn1_cert(pem: bytes) -> asn1_x509.Certificate:
    der = x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)
    return asn1_x509.Certificate.load(der)


def asn1_key(key: Any) -> keys.PrivateKeyInfo:
    return keys.PrivateKeyInfo.load(
        key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def rsa_material() -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Uji RSA")])
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    return key, cert


def both(key: Any, cert_pem: bytes) -> tuple[signers.SimpleSigner, TemplateSigner]:
    cert, private = asn1_cert(cert_pem), asn1_key(key)
    registry = SimpleCertificateStore.from_certs([])  # type: ignore[no-untyped-call]
    return signers.SimpleSigner(cert, private, registry), TemplateSigner(cert, private, registry)


async def cms_of(signer: signers.SimpleSigner, digest: bytes) -> cms.ContentInfo:
    return await signer.async_sign(
        digest,
        "sha256",
        use_pades=True,
        signed_attr_settings=PdfCMSSignedAttributes(signing_time=dt.datetime.now(dt.UTC)),
    )


def without_signature(content: cms.ContentInfo) -> dict[str, Any]:
    native: dict[str, Any] = content.native
    signer_info = native["content"]["signer_infos"][0]
    signer_info.pop("signature")
    return native


@pytest.mark.parametrize("kind", ["ecdsa", "rsa"])
def test_the_template_gives_pyhankos_cms_with_a_signature_that_verifies(
    kind: str, tmp_path: Path
) -> None:
    if kind == "ecdsa":
        material = development_material(tmp_path, "DINAS UJI")
        key = serialization.load_pem_private_key(material.key_pem, password=None)
        cert_pem = material.cert_pem
    else:
        key, cert = rsa_material()
        cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    pyhanko, templated = both(key, cert_pem)
    for document in (b"pertama", b"kedua"):
        digest = hashlib.sha256(document).digest()
        expected = asyncio.run(cms_of(pyhanko, digest))
        made = asyncio.run(cms_of(templated, digest))
        assert without_signature(made) == without_signature(expected)
        signer_info = made["content"]["signer_infos"][0]
        attributes = {a["type"].native: a for a in signer_info["signed_attrs"]}
        assert attributes["message_digest"]["values"][0].native == digest
        assert "signing_certificate_v2" in attributes and "signing_time" not in attributes
        signed = signer_info["signed_attrs"].untag().dump()
        public = x509.load_pem_x509_certificate(cert_pem).public_key()
        signature = signer_info["signature"].native
        if isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(signature, signed, ec.ECDSA(hashes.SHA256()))
        else:
            assert isinstance(public, rsa.RSAPublicKey)
            public.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
    assert templated._template is not None  # the documents after the first used it


def test_a_pdf_signed_through_the_template_validates_and_a_changed_byte_does_not(
    tmp_path: Path,
) -> None:
    material = development_material(tmp_path, "DINAS UJI")
    signer = PadesSigner(material)
    unsigned = typst.compile(b"= Berita Acara\nIsi dokumen.")
    assert isinstance(unsigned, bytes)
    trust = asn1_cert((tmp_path / CA_FILE).read_bytes())
    for n in range(2):  # the first signature makes the template, the second uses it
        pdf = signer.sign(unsigned, location="Kasongan", reason=f"Dokumen {n}")
        [signature] = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
        status = asyncio.run(
            async_validate_pdf_signature(signature, ValidationContext(trust_roots=[trust]))
        )
        assert status.bottom_line and status.intact and status.valid
        assert status.coverage is not None and status.coverage.name == "ENTIRE_FILE"
        attributes = {a["type"].native for a in signature.signer_info["signed_attrs"]}
        assert attributes == {"content_type", "message_digest", "signing_certificate_v2"}
    changed = bytearray(pdf)
    changed[pdf.index(b"/Contents") - 40] ^= 0x01
    [signature] = PdfFileReader(io.BytesIO(bytes(changed)), strict=False).embedded_signatures
    status = asyncio.run(
        async_validate_pdf_signature(signature, ValidationContext(trust_roots=[trust]))
    )
    assert not status.intact
