"""identity's pure rules: delegations (Plt/Plh), token lifetimes, login throttling; and the
token and settings pieces they rest on (verification at a given instant, production checks)."""

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events.envelope import OnBehalfOf
from events.identity import DelegationEnded, DelegationGranted, LoginUnlocked
from infra.auth import InvalidToken, TokenIssuer, TokenVerifier, generate_key_pair
from infra.errors import InvalidInput, NotAllowed, NotFound
from infra.principal import Principal
from infra.settings import EnvironmentNotSet, ProductionConfigError, Settings
from services.identity import domain
from services.identity.usecases import address_key

NOW = dt.datetime(2024, 3, 4, 8, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
MINUTE = dt.timedelta(minutes=1)
ADMIN = Principal(user_id="u-admin", name="Admin", roles=frozenset({"ADMIN"}))
KADIS = domain.UserState(user_id="u-kadis", opd="DISKOMINFOSTANDI", roles=frozenset({"KADIS"}))
KABID = domain.UserState(user_id="u-kabid", opd="DISKOMINFOSTANDI", roles=frozenset({"KABID_TI"}))
KEYS = generate_key_pair()
KABID_PRINCIPAL = Principal(user_id="u-kabid", name="Kabid", roles=frozenset({"KABID_TI"}))


def grant_cmd(**changes: object) -> domain.GrantDelegation:
    fields: dict[str, object] = {
        "delegate_user_id": "u-kabid",
        "official_user_id": "u-kadis",
        "role": "KADIS",
        "kind": "PLH",
        "valid_from": NOW,
        "valid_until": NOW + dt.timedelta(days=3),
        "reason": "Kadis dinas luar; Surat Perintah 800/12/2024",
    }
    return domain.GrantDelegation.model_validate({**fields, **changes})


def grant(**context: object) -> list[object]:
    args: dict[str, object] = {
        "principal": ADMIN,
        "cmd": grant_cmd(),
        "delegation_id": "d-1",
        "delegate": KABID,
        "official": KADIS,
        "overlapping": [],
        "now": NOW,
    }
    return list(domain.grant_delegation(**{**args, **context}))  # type: ignore[arg-type]


# --- Delegations ----------------------------------------------------------------------------


def test_an_admin_grants_a_delegation_of_a_role_the_official_holds() -> None:
    [event] = grant()
    assert isinstance(event, DelegationGranted)
    assert (event.delegate_user_id, event.official_user_id, event.role, event.kind) == (
        "u-kabid",
        "u-kadis",
        "KADIS",
        "PLH",
    )
    assert domain.on_behalf_of(event) == OnBehalfOf(user_id="u-kadis", role="KADIS", kind="PLH")
    assert event.is_valid_at(NOW) and not event.is_valid_at(NOW + dt.timedelta(days=3))


@pytest.mark.parametrize(
    ("context", "error", "field"),
    [
        ({"principal": Principal("u-k", "K", frozenset({"KADIS"}))}, NotAllowed, None),
        ({"delegate": None}, InvalidInput, "delegate_user_id"),
        ({"official": None}, InvalidInput, "official_user_id"),
        ({"official": KADIS.model_copy(update={"roles": frozenset()})}, InvalidInput, "role"),
        ({"delegate": KADIS, "official": KADIS}, InvalidInput, "delegate_user_id"),
        (
            {"delegate": KABID.model_copy(update={"roles": frozenset({"KABID_TI", "KADIS"})})},
            InvalidInput,
            "role",
        ),
        ({"cmd": grant_cmd(valid_until=NOW)}, InvalidInput, "valid_until"),
        ({"cmd": grant_cmd(valid_from=NOW - 3 * HOUR, valid_until=NOW)}, InvalidInput, None),
        ({"cmd": grant_cmd(valid_until=NOW + dt.timedelta(days=93))}, InvalidInput, None),
        ({"overlapping": ["d-0"]}, domain.Conflict, None),
    ],
)
def test_a_delegation_is_refused(
    context: dict[str, object], error: type[Exception], field: str | None
) -> None:
    with pytest.raises(error) as refused:
        grant(**context)
    if field is not None:
        assert isinstance(refused.value, InvalidInput) and refused.value.field == field


def test_a_future_or_running_delegation_can_be_ended_once_but_not_after_it_ran_out() -> None:
    state = domain.fold_delegation(grant())  # type: ignore[arg-type]
    assert state is not None and not state.ended
    end = domain.EndDelegation(reason="Kadis kembali bertugas")
    [ended] = domain.end_delegation(ADMIN, state, end, NOW + HOUR)
    assert ended == DelegationEnded(delegation_id="d-1", reason="Kadis kembali bertugas")
    after = domain.fold_delegation([*grant(), ended])  # type: ignore[list-item]
    assert after is not None and after.ended
    with pytest.raises(domain.Conflict):
        domain.end_delegation(ADMIN, after, end, NOW + HOUR)
    with pytest.raises(domain.Conflict):
        domain.end_delegation(ADMIN, state, end, NOW + dt.timedelta(days=3))
    with pytest.raises(NotFound):
        domain.end_delegation(ADMIN, None, end, NOW)
    with pytest.raises(NotAllowed):
        domain.end_delegation(Principal("u-x", "X", frozenset({"AUDITOR"})), state, end, NOW)


# --- Token lifetimes ------------------------------------------------------------------------


def test_a_token_never_outlives_its_session_or_the_delegations_it_carries() -> None:
    policy = domain.TokenPolicy(max_session=12 * HOUR, delegated_ttl=HOUR)
    assert domain.token_not_after(NOW, NOW, [], policy) == NOW + 12 * HOUR
    assert domain.token_not_after(NOW, NOW - 11 * HOUR, [], policy) == NOW + HOUR
    ends = [NOW + 20 * dt.timedelta(minutes=1), NOW + 5 * HOUR]
    assert domain.token_not_after(NOW, NOW, ends, policy) == NOW + dt.timedelta(minutes=20)
    assert domain.token_not_after(NOW, NOW, [NOW + 5 * HOUR], policy) == NOW + HOUR


def test_the_issuer_caps_exp_and_the_verifier_judges_at_the_instant_given() -> None:
    private, public = KEYS
    delegation = OnBehalfOf(user_id="u-kadis", role="KADIS", kind="PLT")
    principal = Principal("u-kabid", "Rudi", frozenset({"KABID_TI"}), "X", (delegation,))
    until = NOW + dt.timedelta(minutes=10)
    token = TokenIssuer(private).issue(principal, NOW, not_after=until, auth_time=NOW)
    verifier = TokenVerifier(public)
    assert verifier.verify(token, now=until - dt.timedelta(seconds=1)).delegations == (delegation,)
    assert verifier.claims(token, now=NOW)["exp"] == int(until.timestamp())
    assert verifier.claims(token, now=NOW)["auth_time"] == int(NOW.timestamp())
    with pytest.raises(InvalidToken, match="Sesi Anda sudah berakhir"):
        verifier.verify(token, now=until)
    with pytest.raises(InvalidToken, match="Token belum berlaku"):
        verifier.verify(token, now=NOW - HOUR)
    with pytest.raises(InvalidToken):  # by the system clock, years later
        verifier.verify(token)
    lenient = TokenVerifier(public, leeway=dt.timedelta(minutes=1))
    assert lenient.verify(token, now=until + dt.timedelta(seconds=30)).user_id == "u-kabid"
    clocked = TokenVerifier(public, clock=lambda: NOW + dt.timedelta(minutes=5))
    assert clocked.verify(token).user_id == "u-kabid"
    plain = TokenIssuer(private).issue(principal, NOW)
    assert verifier.claims(plain, now=NOW)["exp"] == int((NOW + 15 * MINUTE).timestamp())


def test_a_refresh_token_is_no_access_token() -> None:
    private, public = KEYS
    renewal = TokenIssuer(private).issue_refresh("u-admin", NOW, NOW, NOW + 12 * HOUR)
    verifier = TokenVerifier(public)
    with pytest.raises(InvalidToken, match="Token tidak sah"):
        verifier.claims(renewal, now=NOW)
    claims = verifier.claims(renewal, now=NOW, uses=("access", "refresh"))
    assert (claims["sub"], claims["token_use"], "roles" in claims) == ("u-admin", "refresh", False)


# --- Login throttling -----------------------------------------------------------------------

USER_RULE = domain.LoginPolicy().per_user
ADDRESS_RULE = domain.LoginPolicy().per_address


def fail(
    times: int,
    rule: domain.ThrottleRule,
    start: domain.Attempts | None = None,
    every: dt.timedelta = dt.timedelta(seconds=10),
) -> tuple[domain.Attempts, dt.datetime]:
    attempts, now = start or domain.Attempts(), NOW
    for i in range(times):
        now = NOW + i * every
        attempts = domain.after_failure(attempts, rule, now)
    return attempts, now


def test_five_consecutive_failures_lock_a_username_for_fifteen_minutes() -> None:
    four, now = fail(4, USER_RULE)
    assert four.locked_at(now) is None and four.failures == 4
    five, now = fail(5, USER_RULE)
    assert five.locked_at(now) == now + dt.timedelta(minutes=15)
    refusal = domain.login_refusal(five, domain.Attempts(), now + dt.timedelta(minutes=1))
    assert refusal is not None and refusal.scope == "user" and refusal.retry_after == 14 * 60
    assert "dikunci" in refusal.message and "14 menit" in refusal.message
    later = now + dt.timedelta(minutes=15)
    assert domain.login_refusal(five, domain.Attempts(), later) is None
    assert domain.after_failure(five, USER_RULE, later).failures == 1  # a served lock restarts


def test_username_failures_count_for_a_day_and_address_failures_for_15_minutes() -> None:
    slow_user, now = fail(5, USER_RULE, every=dt.timedelta(hours=2))
    assert slow_user.locked_at(now) is not None
    over_days, now = fail(5, USER_RULE, every=dt.timedelta(hours=7))
    assert over_days.locked_at(now) is None and over_days.failures == 1  # a day: count restarts
    slow_address, now = fail(40, ADDRESS_RULE, every=dt.timedelta(minutes=1))
    assert slow_address.locked_at(now) is None
    quick_address, now = fail(20, ADDRESS_RULE, every=dt.timedelta(seconds=30))
    assert quick_address.locked_at(now) == now + dt.timedelta(minutes=15)
    refusal = domain.login_refusal(domain.Attempts(), quick_address, now)
    assert refusal is not None and refusal.scope == "address" and "alamat" in refusal.message


def test_the_later_lock_is_the_one_reported() -> None:
    user = domain.Attempts(5, NOW, NOW + dt.timedelta(minutes=3))
    address = domain.Attempts(20, NOW, NOW + dt.timedelta(minutes=9))
    refusal = domain.login_refusal(user, address, NOW)
    assert refusal is not None and refusal.scope == "address" and refusal.retry_after == 540


@given(st.lists(st.integers(min_value=0, max_value=3600), max_size=60))
def test_never_more_than_max_failures_before_a_lock(gaps: list[int]) -> None:
    """However failures are spaced, a key is locked at the latest by its max-th unlocked one."""
    attempts, now = domain.Attempts(), NOW
    unlocked_failures = 0
    for gap in gaps:
        now += dt.timedelta(seconds=gap)
        if attempts.locked_at(now):
            continue  # refused before the password is checked: not counted
        attempts = domain.after_failure(attempts, USER_RULE, now)
        unlocked_failures = attempts.failures
        assert unlocked_failures <= USER_RULE.max_failures
        assert (attempts.locked_until is not None) == (unlocked_failures == 5)


def test_each_further_lock_of_an_account_lasts_twice_as_long_up_to_a_day() -> None:
    lengths = []
    attempts, now = domain.Attempts(), NOW
    for _ in range(9):
        for _ in range(5):
            now += MINUTE
            attempts = domain.after_failure(attempts, USER_RULE, now)
        until = attempts.locked_at(now)
        assert until is not None
        lengths.append(until - now)
        refusal = domain.login_refusal(attempts, domain.Attempts(), now)
        now = until  # the lock served; the next failure counts afresh
    assert [m // MINUTE for m in lengths] == [15, 30, 60, 120, 240, 480, 960, 1440, 1440]
    assert refusal is not None and "coba lagi dalam 24 jam, atau minta admin" in refusal.message
    assert attempts.locks == 9
    held, now = fail(20, ADDRESS_RULE)
    assert held.locked_until == now + 15 * MINUTE
    again = held
    for i in range(20):  # after the hold is served: an address's hold does not escalate
        again = domain.after_failure(again, ADDRESS_RULE, now + 15 * MINUTE + i * MINUTE / 10)
    assert again.locked_until == now + 15 * MINUTE + 19 * MINUTE / 10 + 15 * MINUTE
    policy = domain.LoginPolicy.of(lockout_minutes=10, max_lockout_minutes=25)
    assert [policy.per_user.lockout_after(n) // MINUTE for n in range(4)] == [10, 20, 25, 25]


def test_only_an_admin_unlocks_an_account_and_only_one_with_failures() -> None:
    locked, now = fail(5, USER_RULE)
    [event] = domain.unlock_login(ADMIN, KADIS, locked, now)
    assert isinstance(event, LoginUnlocked)
    assert (event.user_id, event.locked_until, event.failures) == (
        "u-kadis",
        locked.locked_until,
        5,
    )
    assert domain.unlock_login(ADMIN, KADIS, domain.Attempts(), now) == []
    with pytest.raises(NotAllowed):
        domain.unlock_login(KABID_PRINCIPAL, KADIS, locked, now)
    with pytest.raises(NotFound):
        domain.unlock_login(ADMIN, None, locked, now)


def test_addresses_are_counted_by_host_and_ipv6_by_its_64() -> None:
    assert address_key("10.1.2.3") == "addr:10.1.2.3"
    assert address_key("::ffff:10.1.2.3") == "addr:10.1.2.3"
    assert address_key("2001:db8:1:2:aaaa::1") == address_key("2001:db8:1:2:bbbb::9")
    assert address_key("2001:db8:1:2::1") == "addr:2001:db8:1:2::/64"
    assert address_key(None) == "addr:unknown"
    assert address_key("testclient") == "addr:testclient"


# --- Production checks ----------------------------------------------------------------------


def test_development_needs_nothing_but_its_name() -> None:
    Settings(environment="development").check_production(signs_tokens=True)
    assert Settings(environment="development").production_problems(signs_tokens=True) == []


def test_no_environment_no_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ENVIRONMENT", raising=False)
    for missing in ({}, {"environment": ""}):
        with pytest.raises(EnvironmentNotSet, match="ENVIRONMENT is not set"):
            Settings(**missing)
    monkeypatch.setenv("ENVIRONMENT", "production")
    assert Settings().environment == "production"


def test_production_needs_keys_and_secrets_from_the_environment(tmp_path: Path) -> None:
    bare = Settings(environment="production", jwt_key_dir=str(tmp_path))
    with pytest.raises(ProductionConfigError) as refused:
        bare.check_production(signs_tokens=True)
    for variable in ("JWT_PRIVATE_KEY", "JWT_PUBLIC_KEY", "APP_DB_PASSWORD", "KAFKA_SASL_PASSWORD"):
        assert variable in str(refused.value)
    assert "JWT_PRIVATE_KEY" not in " ".join(bare.production_problems())
    private, public = KEYS
    good = Settings(
        environment="production",
        jwt_private_key=private,
        jwt_public_key=public,
        app_db_password="a-long-production-secret",
        kafka_sasl_password="identity-s-own-kafka-secret",  # type: ignore[arg-type]
        jwt_key_dir=str(tmp_path),
        checkpoint_signing_key=generate_key_pair()[0],
    )
    good.check_production(signs_tokens=True)
    (tmp_path / "jwt-public.pem").write_text(public + "\n")
    [problem] = good.production_problems()
    assert "JWT_PUBLIC_KEY is the development key" in problem
