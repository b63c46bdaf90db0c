"""Approval's pure domain in one import: the state and its fold (``state``), the decisions
(``decide``). No I/O; entry points load the request's events, ``fold`` them, ``decide``, append.
"""

from services.approval.decide import (
    ADMITTED,
    GET_REQUEST,
    LIST_REQUESTS,
    acting_role,
    available_actions,
    decide,
    ensure_visible,
    required_role,
    rule_of,
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
    "ADMITTED",
    "CONSUMED_EVENT_TYPES",
    "GET_REQUEST",
    "INITIAL",
    "LIST_REQUESTS",
    "ApprovalState",
    "Status",
    "acting_role",
    "available_actions",
    "current_step",
    "decide",
    "ensure_visible",
    "evolve",
    "fold",
    "required_role",
    "rule_of",
    "who_must_act",
]
