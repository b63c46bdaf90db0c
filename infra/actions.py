"""What a caller may do now on one request: the commands that pass both the access policy
(``events.policy`` through ``infra.access``) and the request's step, as the deciders enforce
them. Pure; each service's ``decide`` module lists its own with ``available_actions``."""

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from events.envelope import OnBehalfOf, Role
from events.policy import Rule
from infra import access
from infra.principal import Principal


class Action(BaseModel):
    """One command the caller may give now."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    command: str = Field(description="Nama perintah, mis. Dispose (nama aturan di kebijakan akses)")
    role: Role = Field(description="Peran yang dipakai untuk perintah ini")
    on_behalf_of: OnBehalfOf | None = Field(
        default=None, description="Pejabat yang diwakili, bila bertindak sebagai Plt./Plh."
    )
    label: str = Field(
        description="Nama tindakan untuk ditampilkan, mis. Disposisi kepada Kabid TI (langkah 3)"
    )


A = TypeVar("A", bound=Action)


class Actions(BaseModel):
    """The answer of ``GET /requests/{request_id}/actions``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    request_id: str = Field(description="Id permohonan")
    actions: tuple[Action, ...] = Field(
        description="Perintah yang boleh diberikan pemanggil sekarang, sesuai peran dan langkah"
    )


def offer(
    principal: Principal, rule: Rule, target: access.Target, kind: type[A], **details: Any
) -> A | None:
    """``rule``'s command as a ``kind`` of ``Action`` for ``principal`` on ``target`` (in the role
    it would act in, and for whom as Plt/Plh, with ``details``), or None if the policy refuses it
    there."""
    grant = access.permitted(principal, rule, target)
    if grant is None or grant.role is None:
        return None
    return kind(
        command=rule.name,
        role=grant.role,
        on_behalf_of=principal.acting_as(grant.role).on_behalf_of,
        label=rule.label,
        **details,
    )
