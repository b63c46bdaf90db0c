"""The documents' directory follows identity's events: a profile corrected after a document
was issued changes the documents issued later, not that one."""

from events.identity import RoleGranted, UserProfileChanged, UserRegistered
from services.documents.people import People

REGISTERED = UserRegistered(
    user_id="u-yanti",
    username="yanti",
    full_name="Yanti, S.Kom.",
    nip="198001012005012001",
    opd="DISKOMINFOSTANDI",
    rank="Penata Tk. I (III/d)",
)
GRANTED = RoleGranted(user_id="u-yanti", role="KABID_TI")
PROMOTED = UserProfileChanged(
    user_id="u-yanti",
    full_name="Yanti, S.Kom., M.T.",
    nip="198001012005012001",
    rank="Pembina (IV/a)",
    position="Kepala Bidang Aplikasi Informatika",
)


def test_a_changed_profile_replaces_name_nip_rank_and_position_and_keeps_the_rest() -> None:
    before = People.of([REGISTERED, GRANTED]).users["u-yanti"]
    after = People.of([REGISTERED, GRANTED, PROMOTED]).users["u-yanti"]
    assert (before.full_name, before.rank, before.position) == (
        "Yanti, S.Kom.",
        "Penata Tk. I (III/d)",
        None,
    )
    assert (after.full_name, after.nip, after.rank, after.position) == (
        "Yanti, S.Kom., M.T.",
        "198001012005012001",
        "Pembina (IV/a)",
        "Kepala Bidang Aplikasi Informatika",
    )
    assert (after.opd, after.roles) == ("DISKOMINFOSTANDI", frozenset({"KABID_TI"}))


def test_a_profile_of_someone_unknown_adds_nobody() -> None:
    assert People.of([PROMOTED]).users == {}
