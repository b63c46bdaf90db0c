"""The development signing certificate: a CA and a department certificate it issued, generated
once into the data folder (``make run``'s ``.jejak/signing``, a test's own folder) with
``cryptography``. Production uses the certificate from settings instead."""

import datetime as dt
import os
import tempfile
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from services.documents.signing import SigningMaterial

CA_FILE, CERT_FILE, KEY_FILE = "ca.pem", "signer.pem", "signer-key.pem"


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "ID"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Jejak (pengembangan)"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _usage(*, sign_certs: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not sign_certs,
        content_commitment=not sign_certs,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=sign_certs,
        crl_sign=sign_certs,
        encipher_only=False,
        decipher_only=False,
    )


def generate(now: dt.datetime, agency: str) -> tuple[bytes, bytes, bytes]:
    """(CA certificate, signing certificate, signing key) in PEM."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("Jejak Development CA")
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(sign_certs=True), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(agency[:64]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3649))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(sign_certs=False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    key_pem = key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return ca.public_bytes(pem), cert.public_bytes(pem), key_pem


def development_material(folder: Path, agency: str) -> SigningMaterial:
    """The material kept in ``folder``, generated there first if absent. Concurrent first
    callers agree: each writes a folder of its own and only the first rename wins."""
    if not (folder / KEY_FILE).is_file():
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=".signing-"))
        ca, cert, key = generate(dt.datetime.now(dt.UTC), agency)
        (staging / CA_FILE).write_bytes(ca)
        (staging / CERT_FILE).write_bytes(cert)
        (staging / KEY_FILE).write_bytes(key)
        os.chmod(staging / KEY_FILE, 0o600)
        try:
            os.rename(staging, folder)
        except OSError:  # another process made it first
            for part in staging.iterdir():
                part.unlink()
            staging.rmdir()
    key, cert = (folder / KEY_FILE).read_bytes(), (folder / CERT_FILE).read_bytes()
    return SigningMaterial(key, cert, ((folder / CA_FILE).read_bytes(),))
