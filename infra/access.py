"""Enforcing ``events.policy``: the checks every service runs on a verified ``Principal``. Pure, so
domains may use it.

A command or query is checked in two moves, so that a refusal never tells a caller more than it
may know: ``authorize`` (does the caller hold a role the rule grants, own or as Plt/Plh?) before
anything is looked up, then, once the target is known, ``require_scope`` (is the request of its
OPD, of its team, its own?). Lists ask ``opd_filter`` which OPD's rows to show. Refusals are
``NotAllowed`` (403) with an Indonesian message naming the rule.
"""

from dataclasses import dataclass

from events.envelope import Role
from events.policy import Grant, Rule, Scope
from infra.errors import NotAllowed
from infra.principal import Principal

_WHOLE: tuple[Scope, ...] = ("ANY", "NONE")


@dataclass(frozen=True)
class Target:
    """What a command or query touches, as far as scopes go."""

    opd: str | None = None
    """The request's OPD (None: not known yet)."""
    team: frozenset[str] = frozenset()
    """The user ids its latest assignment letter names."""
    owners: frozenset[str] = frozenset()
    """The user ids it belongs to (a user record, a delegation's two parties, a notice)."""


def held(principal: Principal, rule: Rule) -> tuple[Grant, ...]:
    """The grants of ``rule`` that ``principal`` holds, in the rule's order."""
    return tuple(g for g in rule.grants if g.role is None or principal.has_role(g.role))


def _roles(rule: Rule) -> str:
    return " atau ".join(rule.roles) or "pengguna yang masuk"


def authorize(principal: Principal, rule: Rule) -> Grant:
    """The first grant of ``rule`` that ``principal`` holds, or ``NotAllowed``. Run it before
    anything is looked up."""
    grants = held(principal, rule)
    if not grants:
        raise NotAllowed(
            f"{rule.label} hanya boleh dilakukan oleh peran {_roles(rule)} (sendiri atau sebagai "
            "Plt./Plh.)."
        )
    return grants[0]


def acting_role(principal: Principal, rule: Rule) -> Role:
    """The role ``principal`` gives a command in: the first of the rule's roles it holds, own or
    delegated (pass it to ``principal.acting_as``); ``NotAllowed`` if none."""
    grant = authorize(principal, rule)
    if grant.role is None:
        raise LookupError(f"{rule.service}.{rule.name} is granted to no role by name")
    return grant.role


def admits(principal: Principal, grant: Grant, target: Target) -> bool:
    """Whether ``grant``, held by ``principal``, reaches ``target``."""
    match grant.scope:
        case "ANY" | "NONE":
            return True
        case "OWN_OPD":
            return principal.opd is not None and principal.opd == target.opd
        case "TEAM":
            return principal.user_id in target.team
        case "SELF":
            return principal.user_id in target.owners


def _out_of_scope(principal: Principal, rule: Rule, grant: Grant, target: Target) -> str:
    match grant.scope:
        case "OWN_OPD" if principal.opd is None:
            return f"{rule.label}: pemohon harus terdaftar pada sebuah OPD."
        case "OWN_OPD" if target.opd is None:
            return (
                f"{rule.label}: OPD pemohon permohonan ini belum diketahui, jadi belum ada "
                "pemohon yang boleh menanganinya."
            )
        case "OWN_OPD":
            return (
                f"{rule.label}: permohonan ini milik OPD lain; pemohon hanya dapat menangani "
                "permohonan OPD-nya sendiri."
            )
        case "TEAM":
            return (
                f"{rule.label}: hanya tim pengembang yang disebut dalam surat tugas permohonan "
                "ini yang boleh melakukannya."
            )
        case _:
            return f"{rule.label}: hanya untuk pemiliknya sendiri."


def require_scope(
    principal: Principal, rule: Rule, target: Target, grant: Grant | None = None
) -> Grant:
    """The grant under which ``principal`` reaches ``target``: ``grant`` if given (the one a
    command is acted in), else the first held one that reaches it; ``NotAllowed`` otherwise."""
    grants = (grant,) if grant is not None else held(principal, rule)
    if not grants:
        authorize(principal, rule)  # raises, naming the roles
    for candidate in grants:
        if admits(principal, candidate, target):
            return candidate
    raise NotAllowed(_out_of_scope(principal, rule, grants[0], target))


def permitted(principal: Principal, rule: Rule, target: Target) -> Grant | None:
    """The grant under which ``principal`` may give ``rule``'s command on ``target``, or None:
    what ``authorize`` then ``require_scope(..., grant)`` let through, as an answer instead of a
    refusal (the first grant held, and only if it reaches ``target``)."""
    grants = held(principal, rule)
    if not grants or not admits(principal, grants[0], target):
        return None
    return grants[0]


def opd_filter(principal: Principal, rule: Rule) -> str | None:
    """Which OPD's rows a list shows ``principal``: ``None`` for every OPD, else its own; a
    requester without an OPD, or a caller without a role the rule grants, gets ``NotAllowed``."""
    grants = held(principal, rule)
    if not grants:
        authorize(principal, rule)
    if any(g.scope in _WHOLE for g in grants):
        return None
    if principal.opd is not None and any(g.scope == "OWN_OPD" for g in grants):
        return principal.opd
    raise NotAllowed(_out_of_scope(principal, rule, grants[0], Target()))


def reaches_every_opd(principal: Principal, rule: Rule) -> bool:
    """Whether a grant ``principal`` holds reaches every OPD's requests."""
    return any(g.scope in _WHOLE for g in held(principal, rule))
