"""Small views of the services' data for the templates: options of a picker, the values of a
form filled from a stored request. No rule is decided here."""

import uuid
from typing import Any

from services.web.commands import NEEDS_LISTS, NEEDS_TEXTS, PROCESS_LISTS, PROCESS_TEXTS
from services.web.vocabulary import DELEGATION_KINDS, ROLES, SECTIONS


def new_key() -> str:
    """A fresh ``Idempotency-Key`` for a form: sent again as it is when the form is re-sent, so
    that a command acts once."""
    return str(uuid.uuid4())


def user_option(user: dict[str, Any]) -> tuple[str, str]:
    roles = ", ".join(ROLES.get(r, r) for r in user["roles"])
    where = f", {user['opd']}" if user.get("opd") else ""
    return user["user_id"], f"{user['full_name']} ({roles}{where})"


def user_option_id(user_id: str, users: dict[str, dict[str, Any]]) -> tuple[str, str]:
    return user_option(users[user_id])


def problem_option(problem: dict[str, Any]) -> tuple[str, str]:
    return problem["problem_id"], f"{problem['problem_id']}: {problem['description']}"


def section_label(path: str) -> str:
    return SECTIONS.get(path, path)


def user_name(user_id: str | None, users: dict[str, dict[str, Any]]) -> str:
    if not user_id:
        return ""
    return str(users[user_id]["full_name"]) if user_id in users else user_id


def request_values(intake: dict[str, Any] | None) -> dict[str, str]:
    """The request form's fields filled from intake's view of a request (for a revision)."""
    if not intake:
        return {}
    values: dict[str, str] = {}
    for group, texts, lists in (
        ("needs_analysis", NEEDS_TEXTS, NEEDS_LISTS),
        ("business_process", PROCESS_TEXTS, PROCESS_LISTS),
    ):
        document = intake.get(group) or {}
        for name in texts:
            values[f"{group}.{name}"] = document.get(name) or ""
        for name in lists:
            values[f"{group}.{name}"] = "\n".join(document.get(name) or [])
    return values


def delegation_option(delegation: dict[str, Any], names: dict[str, str]) -> tuple[str, str]:
    who = names.get(delegation["delegate_user_id"], delegation["delegate_user_id"])
    return delegation[
        "delegation_id"
    ], f"{who}: {DELEGATION_KINDS[delegation['kind']]} {ROLES[delegation['role']]}"
