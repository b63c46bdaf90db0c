"""The access-control policy (``events.policy``): every route of every service is declared in it,
its decisions hold, and ``infra.access`` enforces it as declared (Plt/Plh delegations included).
The same policy is tried against the running services in ``tests/services/test_access_matrix.py``.
"""

import importlib
import typing
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

from events import policy
from events.envelope import OnBehalfOf
from events.steps import step
from events.topics import SERVICES, Service
from infra import access
from infra.errors import NotAllowed
from infra.principal import Principal
from infra.settings import Settings

REQUEST_PATHS = ("/requests", "/cases", "/attachments", "/reports")
"""Routes that show or change requests (or what they hold)."""

COMMAND_UNIONS = {
    "intake": ("services.intake.commands", "IntakeCommand"),
    "approval": ("services.approval.commands", "ApprovalCommand"),
    "dev_tracking": ("services.dev_tracking.commands", "DevTrackingCommand"),
}


def _app(service: Service, keys: Path) -> FastAPI:
    module = importlib.import_module(f"services.{service}.bootstrap")
    settings = Settings(service_name=service, jwt_key_dir=str(keys), environment="development")
    app: FastAPI = module.create_app(settings)
    return app


def _routes(app: FastAPI) -> Iterator[tuple[str, str]]:
    """Every API route's (method, path), those of included routers too (and those left out of
    the OpenAPI document); FastAPI's own documentation routes are not API routes."""
    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, APIRoute):
            assert context.path is not None and context.methods is not None
            for method in sorted(context.methods - {"HEAD"}):
                yield method, context.path


@pytest.fixture(scope="module")
def routes(tmp_path_factory: pytest.TempPathFactory) -> dict[Service, set[tuple[str, str]]]:
    keys = tmp_path_factory.mktemp("keys")
    return {s: set(_routes(_app(s, keys))) for s in SERVICES}


@pytest.mark.parametrize("service", SERVICES)
def test_every_route_of_every_app_has_a_rule_and_every_rule_a_route(
    routes: dict[Service, set[tuple[str, str]]], service: Service
) -> None:
    undeclared = [
        f"{method} {path}"
        for method, path in sorted(routes[service])
        if (service, method, path) not in {(r.service, r.method, r.path) for r in policy.POLICY}
    ]
    assert undeclared == [], f"routes of {service} without an access rule in events/policy.py"
    declared = {(r.method, r.path) for r in policy.rules_of(service)}
    assert declared == routes[service], "a rule names a route the app does not have"
    for method, path in routes[service]:
        assert policy.rule_for_route(service, method, path).service == service


def test_names_and_routes_are_unique() -> None:
    assert len({r.key for r in policy.POLICY}) == len(policy.POLICY)
    assert len({(r.service, r.method, r.path) for r in policy.POLICY}) == len(policy.POLICY)
    with pytest.raises(policy.UnknownRule):
        policy.rule("approval", "Approve")
    with pytest.raises(policy.UnknownRule):
        policy.rule_for_route("approval", "PUT", "/requests")


@pytest.mark.parametrize("service", sorted(COMMAND_UNIONS))
def test_every_command_class_has_its_rule(service: Service) -> None:
    module, union = COMMAND_UNIONS[service]
    classes = typing.get_args(getattr(importlib.import_module(module), union))
    assert classes
    for cls in classes:
        rule = policy.rule(service, cls.__name__)
        assert (rule.kind, rule.authentication) == ("command", "BEARER")


def test_each_step_is_granted_to_its_responsible_role_first() -> None:
    stepped = [r for r in policy.POLICY if r.steps and r.authentication == "BEARER"]
    assert {s for r in stepped for s in r.steps} == {
        "SUBMIT",
        "RECEIVE",
        "DISPOSE",
        "VERIFY",
        "MEETING",
        "SIGN_MINUTES",
        "ASSIGN",
        "DEVELOP",
        "SYSTEM_TEST",
        "UNIT_TEST",
        "INTEGRATION_TEST",
        "MANUAL",
        "UAT",
    }
    for rule in stepped:
        for code in rule.steps:
            assert rule.responsible_role == step(code).actor_role, (rule.name, code)
            assert set(rule.roles) <= set(step(code).participant_roles), (rule.name, code)


def test_the_decisions_hold() -> None:
    for rule in policy.POLICY:
        roles = {g.role for g in rule.grants}
        if rule.path.startswith(REQUEST_PATHS):
            assert "ADMIN" not in roles, f"ADMIN reads no request: {rule.name}"
            assert None not in roles, f"a request is never open to everyone: {rule.name}"
        for grant in rule.grants:
            if grant.role == "PEMOHON":
                assert grant.scope == "OWN_OPD", rule.name
            if grant.role == "TIM_PENGEMBANG" and rule.kind == "command":
                assert grant.scope == "TEAM", rule.name
        if "AUDITOR" in roles:
            assert rule.kind == "query", f"AUDITOR changes nothing: {rule.name}"
        if rule.kind == "command" and rule.authentication == "BEARER":
            only_own = all(g.scope == "SELF" for g in rule.grants)
            assert rule.roles or only_own, f"a command names its roles: {rule.name}"
        if rule.authentication != "BEARER":
            assert rule.grants == (), rule.name
        if rule.hides_out_of_scope:
            assert any(g.scope in ("OWN_OPD", "SELF") for g in rule.grants), rule.name
    readers = {
        r.key: {(g.role, g.scope) for g in r.grants}
        for r in policy.POLICY
        if r.path.startswith(REQUEST_PATHS) and r.kind == "query"
    }
    assert len(readers) == 18
    assert all(grants == set(map(astuple, policy.READERS)) for grants in readers.values())


def astuple(grant: policy.Grant) -> tuple[str | None, str]:
    return grant.role, grant.scope


# --- infra.access enforces it -------------------------------------------------------------------


def person(
    *roles: str,
    opd: str | None = "DINKES",
    user_id: str = "u-1",
    delegations: tuple[OnBehalfOf, ...] = (),
) -> Principal:
    return Principal(user_id, user_id, frozenset(roles), opd, delegations)  # type: ignore[arg-type]


PLT_KADIS = person(delegations=(OnBehalfOf(user_id="u-kadis", role="KADIS", kind="PLT"),))
DISPOSE = policy.rule("approval", "Dispose")
SIGN = policy.rule("approval", "SignMinutes")
UAT = policy.rule("dev_tracking", "RecordUat")
PROGRESS = policy.rule("dev_tracking", "ReportProgress")
CASES = policy.rule("reporting", "ListCases")
GET_USER = policy.rule("identity", "GetUser")


def test_a_delegate_holds_the_officials_role_and_acts_in_it() -> None:
    assert access.authorize(PLT_KADIS, DISPOSE) == policy.Grant("KADIS", "ANY")
    assert access.acting_role(PLT_KADIS, SIGN) == "KADIS"
    actor = PLT_KADIS.acting_as(access.acting_role(PLT_KADIS, DISPOSE))
    assert actor.on_behalf_of is not None and actor.on_behalf_of.user_id == "u-kadis"
    without = person()  # the same user outside its window: the token carries no delegation
    with pytest.raises(NotAllowed, match="KADIS"):
        access.authorize(without, DISPOSE)
    with pytest.raises(NotAllowed):
        access.authorize(PLT_KADIS, policy.rule("approval", "VerifyDocuments"))


def test_a_principal_acts_in_the_first_role_of_the_rule_it_holds() -> None:
    assert access.acting_role(person("KADIS", "KABID_TI"), SIGN) == "KABID_TI"
    assert access.acting_role(person("KADIS"), SIGN) == "KADIS"
    with pytest.raises(NotAllowed, match="KABID_TI atau KADIS"):
        access.acting_role(person("AUDITOR", "ADMIN"), SIGN)


def test_scopes() -> None:
    request = access.Target(opd="DINKES", team=frozenset({"dev-1"}))
    requester = person("PEMOHON")
    assert access.require_scope(requester, UAT, request).scope == "OWN_OPD"
    with pytest.raises(NotAllowed, match="OPD lain"):
        access.require_scope(person("PEMOHON", opd="DISDIK"), UAT, request)
    with pytest.raises(NotAllowed, match="belum diketahui"):
        access.require_scope(requester, UAT, access.Target())
    with pytest.raises(NotAllowed, match="terdaftar"):
        access.require_scope(person("PEMOHON", opd=None), UAT, request)
    assert access.require_scope(person("TIM_PENGEMBANG", user_id="dev-1"), PROGRESS, request)
    with pytest.raises(NotAllowed, match="surat tugas"):
        access.require_scope(person("TIM_PENGEMBANG", user_id="dev-9"), PROGRESS, request)
    me = access.Target(owners=frozenset({"u-1"}))
    assert access.require_scope(person(), GET_USER, me).role is None
    assert access.require_scope(person("AUDITOR", user_id="u-2"), GET_USER, me).role == "AUDITOR"
    with pytest.raises(NotAllowed, match="pemiliknya"):
        access.require_scope(person("KADIS", user_id="u-2"), GET_USER, me)


def test_lists_show_every_opd_or_the_callers_own() -> None:
    assert access.opd_filter(person("KABID_TI"), CASES) is None
    assert access.opd_filter(PLT_KADIS, CASES) is None
    assert access.opd_filter(person("PEMOHON", "AUDITOR"), CASES) is None
    assert access.opd_filter(person("PEMOHON"), CASES) == "DINKES"
    for refused in (person("ADMIN"), person(), person("PEMOHON", opd=None)):
        with pytest.raises(NotAllowed):
            access.opd_filter(refused, CASES)
    assert access.reaches_every_opd(person("AUDITOR"), CASES)
    assert not access.reaches_every_opd(person("PEMOHON"), CASES)
