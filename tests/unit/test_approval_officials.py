"""Who may dispose as KADIS at an instant (``services.approval.officials``): own role by its last
grant or revocation until then, else a Plt/Plh delegation in force then whose official held
KADIS then; the principal it gives carries ``on_behalf_of`` into the event's actor."""

import datetime as dt

from events.envelope import Actor, OnBehalfOf
from events.identity import DelegationGranted
from services.approval.officials import Delegation, RoleChange, acting_official, holds

T0 = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


def change(user: str, held: bool, hours: float, version: int = 1) -> RoleChange:
    return RoleChange(user, "KADIS", held, T0 + hours * HOUR, version)


def plt(start: float, end: float, ended: float | None = None) -> Delegation:
    granted = DelegationGranted(
        delegation_id="d-1",
        delegate_user_id="u-plt",
        official_user_id="u-kadis",
        role="KADIS",
        kind="PLT",
        valid_from=T0 + start * HOUR,
        valid_until=T0 + end * HOUR,
        reason="Kadis cuti",
    )
    return Delegation(granted, None if ended is None else T0 + ended * HOUR)


def test_own_kadis_counts_from_its_grant_until_its_revocation() -> None:
    changes = [change("u-kadis", True, 0, 1), change("u-kadis", False, 5, 2)]
    assert not holds(changes, "u-kadis", "KADIS", T0 - HOUR)
    assert holds(changes, "u-kadis", "KADIS", T0)
    assert holds(changes, "u-kadis", "KADIS", T0 + 4 * HOUR)
    assert not holds(changes, "u-kadis", "KADIS", T0 + 5 * HOUR)
    official = acting_official("u-kadis", "Kadis", "KADIS", T0 + HOUR, changes, [])
    assert official is not None
    assert official.acting_as("KADIS") == Actor(user_id="u-kadis", role="KADIS")
    assert acting_official("u-kadis", "Kadis", "KADIS", T0 + 6 * HOUR, changes, []) is None
    # granted again in the same instant as revoked: the later in the stream wins
    again = [*changes, change("u-kadis", True, 5, 3)]
    assert holds(again, "u-kadis", "KADIS", T0 + 5 * HOUR)


def test_a_plt_acts_for_kadis_within_its_window_while_the_official_holds_kadis() -> None:
    changes = [change("u-kadis", True, 0), change("u-kadis", False, 10, 2)]
    delegations = [plt(2, 6, ended=4)]

    def acting(hours: float) -> OnBehalfOf | None:
        official = acting_official("u-plt", "Plt", "KADIS", T0 + hours * HOUR, changes, delegations)
        return None if official is None else official.acting_as("KADIS").on_behalf_of

    assert acting(3) == OnBehalfOf(user_id="u-kadis", role="KADIS", kind="PLT")
    assert acting(1) is None  # before its window
    assert acting(4) is None  # ended early
    assert acting(5) is None
    assert acting_official("u-plt", "Plt", "KADIS", T0 + 3 * HOUR, [], delegations) is None
    late = [plt(8, 12)]  # the official lost KADIS at hour 10: the Plt acts for nobody then
    assert acting_official("u-plt", "Plt", "KADIS", T0 + 9 * HOUR, changes, late) is not None
    assert acting_official("u-plt", "Plt", "KADIS", T0 + 11 * HOUR, changes, late) is None
    # nobody else acts through this delegation
    assert acting_official("u-other", "X", "KADIS", T0 + 3 * HOUR, changes, delegations) is None
