"""Which signer the service uses: the department's certificate from settings in production,
a generated development CA and certificate otherwise."""

from pathlib import Path

from infra.settings import ProductionConfigError, Settings
from services.documents.config import DocumentsConfig
from services.documents.dev_ca import development_material
from services.documents.signing import Signer, SigningMaterial, split_pem


class NoSigner:
    """The signer before the service starts: signs nothing."""

    def sign(self, pdf: bytes, *, location: str, reason: str) -> bytes:
        raise RuntimeError("Layanan dokumen belum berjalan: belum ada penanda tangan elektronik.")


def unsigned() -> Signer:
    return NoSigner()


def check_signing(config: DocumentsConfig, settings: Settings) -> None:
    """Refuse production without the department's own certificate."""
    own = config.signing_key_pem and config.signing_cert_pem
    if settings.environment == "production" and not own:
        raise ProductionConfigError(
            "documents: DOCUMENTS_SIGNING_KEY_PEM and DOCUMENTS_SIGNING_CERT_PEM are required "
            "in production (the development CA signs nothing there)"
        )


def material_from(config: DocumentsConfig, settings: Settings) -> SigningMaterial:
    """The department's key and certificate from settings, or the development ones."""
    check_signing(config, settings)
    if config.signing_key_pem and config.signing_cert_pem:
        certificates = split_pem(config.signing_cert_pem.encode())
        return SigningMaterial(
            config.signing_key_pem.encode(), certificates[0], tuple(certificates[1:])
        )
    return development_material(Path(config.signing_dir), config.agency)
