"""A requester of DINKES and the smallest request it can submit to intake: for the tests that
need a request on the way to what they are about."""

from infra.principal import Principal

REQUESTER = Principal(
    user_id="u-pemohon-dinkes", name="Pemohon", opd="DINKES", roles=frozenset({"PEMOHON"})
)
A_REQUEST = {
    "title": "Sistem Informasi Puskesmas",
    "summary": "Pendaftaran pasien.",
    "letter": {"number": "440/012/DINKES/II/2024", "date": "2024-02-01"},
}
