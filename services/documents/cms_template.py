"""A PAdES signature's CMS from a template: pyHanko's own structure, made once per certificate,
in which only the message digest and the signature change from one document to the next.

pyHanko builds the CMS (``SignedData`` with the signed attributes content-type, message-digest
and signing-certificate-v2, the certificates and the ``SignerInfo``) for every document with
asn1crypto in pure Python: about 11 ms of the 21 ms a signature took
(``docs/benchmarks.md``, documents). Here pyHanko builds it once with a placeholder digest;
each document then gets that structure with its digest put in the signed attributes (a fixed
32 bytes, so nothing else in them moves), the attributes signed with ``cryptography``, and the
signature put in the ``SignerInfo`` (asn1crypto re-encodes only the parts that changed):
about 0.4 ms. What a validator sees is the same as pyHanko's own CMS, except for the
signature value (an ECDSA signature differs at every signing anyway);
``tests/unit/test_documents_cms_template.py`` compares the two."""

import datetime as dt
import hashlib
from typing import Any

from asn1crypto import cms, keys, x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from pyhanko.sign import signers
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko_certvalidator.registry import SimpleCertificateStore

DIGEST = "sha256"
PLACEHOLDERS = (hashlib.sha256(b"jejak-template-1").digest(), hashlib.sha256(b"jejak-2").digest())
"""Two placeholder digests: the template is kept only if the attributes made with each differ
in those 32 bytes alone (nothing else in them varies per document)."""


class TemplateSigner(signers.SimpleSigner):
    """pyHanko's ``SimpleSigner`` whose plain PAdES CMS (SHA-256, no timestamp, no extra CAdES
    attributes) comes from a template; any other request goes to pyHanko's own path."""

    def __init__(
        self,
        signing_cert: x509.Certificate,
        signing_key: keys.PrivateKeyInfo,
        cert_registry: SimpleCertificateStore,
    ) -> None:
        super().__init__(signing_cert, signing_key, cert_registry)
        self._key = serialization.load_der_private_key(self.signing_key.dump(), password=None)
        self._template: tuple[bytes, bytes] | None = None
        """The CMS (DER) and its signed attributes (DER, as signed), made with
        ``PLACEHOLDERS[0]``; None until the first signature."""
        self._templated = True

    def _raw(self, data: bytes) -> bytes | None:
        """The signature of ``data`` for the key kinds done here (ECDSA, RSA PKCS#1 v1.5 as
        pyHanko picks them); None for others."""
        mechanism = self.get_signature_mechanism_for_digest(DIGEST).signature_algo
        if mechanism == "ecdsa" and isinstance(self._key, ec.EllipticCurvePrivateKey):
            return self._key.sign(data, ec.ECDSA(hashes.SHA256()))
        if mechanism == "rsassa_pkcs1v15" and isinstance(self._key, rsa.RSAPrivateKey):
            return self._key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        return None

    async def _make_template(self) -> tuple[bytes, bytes] | None:
        made = []
        for digest, hour in zip(PLACEHOLDERS, (1, 2), strict=True):
            content = await super().async_sign(
                digest,
                DIGEST,
                use_pades=True,
                signed_attr_settings=PdfCMSSignedAttributes(
                    signing_time=dt.datetime(2000, 1, 1, hour, tzinfo=dt.UTC)
                ),
            )
            attributes = content["content"]["signer_infos"][0]["signed_attrs"].untag().dump()
            made.append((content.dump(), attributes))
        (cms_der, first), (_, second) = made
        same = first.count(PLACEHOLDERS[0]) == 1 and first.replace(*PLACEHOLDERS) == second
        if not same or self._raw(first) is None:
            return None
        return cms_der, first

    async def async_sign(
        self,
        data_digest: bytes,
        digest_algorithm: str,
        dry_run: bool = False,
        use_pades: bool = False,
        timestamper: Any = None,
        signed_attr_settings: PdfCMSSignedAttributes | None = None,
        is_pdf_sig: bool = True,
        encap_content_info: Any = None,
    ) -> cms.ContentInfo:
        settings = signed_attr_settings or PdfCMSSignedAttributes()
        plain = (
            digest_algorithm == DIGEST
            and use_pades
            and is_pdf_sig
            and not dry_run
            and timestamper is None
            and encap_content_info is None
            and settings.adobe_revinfo_attr is None
            and settings.cades_signed_attrs is None
            and self.signed_attr_prov_spec is None
            and self.unsigned_attr_prov_spec is None
        )
        if plain and self._templated and self._template is None:
            self._template = await self._make_template()
            self._templated = self._template is not None
        if not plain or self._template is None:
            return await super().async_sign(
                data_digest,
                digest_algorithm,
                dry_run=dry_run,
                use_pades=use_pades,
                timestamper=timestamper,
                signed_attr_settings=signed_attr_settings,
                is_pdf_sig=is_pdf_sig,
                encap_content_info=encap_content_info,
            )
        cms_der, attributes = self._template
        if len(data_digest) != len(PLACEHOLDERS[0]):
            raise ValueError("ringkasan SHA-256 harus 32 bita")
        signed = attributes.replace(PLACEHOLDERS[0], data_digest)
        signature = self._raw(signed)
        assert signature is not None  # checked when the template was made
        content = cms.ContentInfo.load(cms_der)
        signer_info = content["content"]["signer_infos"][0]
        signer_info["signed_attrs"] = cms.CMSAttributes.load(signed)
        signer_info["signature"] = signature
        return cms.ContentInfo.load(content.dump())
