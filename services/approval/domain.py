"""Approval's pure domain in one import: the state and its fold (``state``), the decisions
(``decide``). No I/O; entry points load the request's events, ``fold`` them, ``decide``, append.
"""

from services.approval.decide import (
    ALLOWED_ROLES,
    SEES_EVERY_REQUEST,
    acting_role,
    decide,
    ensure_visible,
    required_role,
)
from services.approval.state import (
    CONSUMED_EVENT_TYPES,
    INITIAL,
    ApprovalState,
    Status,
    current_step,
    evolve,
    fold,
    who_must_act,
)

__all__ = [
    "ALLOWED_ROLES",
    "CONSUMED_EVENT_TYPES",
    "INITIAL",
    "SEES_EVERY_REQUEST",
    "ApprovalState",
    "Status",
    "acting_role",
    "current_step",
    "decide",
    "ensure_visible",
    "evolve",
    "fold",
    "required_role",
    "who_must_act",
]
