"""What an open notification stream still serves (``services.reporting.grants``): the token's
roles and delegations less what identity took away after the token was issued."""

import datetime as dt

from events.envelope import OnBehalfOf
from infra.principal import Principal
from services.reporting.grants import Delegation, RoleChange, lost_anything, still_held

ISSUED = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)
NOW = ISSUED + dt.timedelta(minutes=5)
PLT = OnBehalfOf(user_id="u-kadis", role="KADIS", kind="PLT")
TOKEN = Principal(
    user_id="u-sekdis", name="Sekdis", roles=frozenset({"KABID_TI", "AUDITOR"}), delegations=(PLT,)
)


def delegation(**changed: dt.datetime | None) -> Delegation:
    window: dict[str, dt.datetime | None] = {
        "valid_from": ISSUED - dt.timedelta(days=1),
        "valid_until": ISSUED + dt.timedelta(days=1),
        **changed,
    }
    return Delegation("u-kadis", "KADIS", "PLT", **window)  # type: ignore[arg-type]


def test_a_role_revoked_after_the_token_was_issued_is_no_longer_served() -> None:
    revoked = RoleChange("AUDITOR", held=False, changed_at=ISSUED + dt.timedelta(minutes=1))
    held = still_held(TOKEN, ISSUED, [revoked], [delegation()], NOW)
    assert held.roles == {"KABID_TI"} and held.delegations == (PLT,)
    assert lost_anything(TOKEN, held)


def test_changes_older_than_the_token_and_grants_not_seen_yet_take_nothing_away() -> None:
    old = RoleChange("AUDITOR", held=False, changed_at=ISSUED - dt.timedelta(minutes=1))
    regranted = RoleChange("KABID_TI", held=True, changed_at=ISSUED + dt.timedelta(minutes=1))
    ended_before = delegation(ended_at=ISSUED - dt.timedelta(hours=1))
    held = still_held(TOKEN, ISSUED, [old, regranted], [ended_before], NOW)
    assert held == TOKEN and not lost_anything(TOKEN, held)
    assert still_held(TOKEN, ISSUED, [], [], NOW) == TOKEN  # the projection lags: nothing known


def test_a_delegation_ended_early_or_run_out_is_no_longer_served() -> None:
    ended = delegation(ended_at=ISSUED + dt.timedelta(minutes=2))
    assert still_held(TOKEN, ISSUED, [], [ended], NOW).delegations == ()
    ran_out = delegation(valid_until=ISSUED + dt.timedelta(minutes=3))
    assert still_held(TOKEN, ISSUED, [], [ran_out], NOW).delegations == ()
    another_in_force = delegation(valid_from=ISSUED + dt.timedelta(minutes=2))
    kept = still_held(TOKEN, ISSUED, [], [ended, another_in_force], NOW)
    assert kept.delegations == (PLT,)
