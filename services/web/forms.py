"""Reading what a form sent, and placing a service's refusal beside the field at fault."""

import re
from collections.abc import Mapping
from typing import Any

from starlette.datastructures import FormData, UploadFile

_INDEX = re.compile(r"\.\d+(\..*)?$")


def text(form: FormData, name: str) -> str | None:
    """The field's text, trimmed; None when empty or absent."""
    value = form.get(name)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def lines(form: FormData, name: str) -> list[str]:
    """A textarea's non-empty lines, each trimmed: one item per line."""
    value = text(form, name) or ""
    return [line.strip() for line in value.splitlines() if line.strip()]


def chosen(form: FormData, name: str) -> list[str]:
    """Every value of a group of checkboxes (or a multiple select)."""
    return [v for v in form.getlist(name) if isinstance(v, str) and v]


def upload(form: FormData, name: str) -> UploadFile | None:
    value = form.get(name)
    if isinstance(value, UploadFile) and value.filename:
        return value
    return None


def field_of(path: str) -> str:
    """The form field a service's error path belongs to: ``participants.0.name`` is the
    ``participants`` group, ``findings.2`` the ``findings`` textarea."""
    return _INDEX.sub("", path)


def errors_by_field(fields: Mapping[str, str]) -> dict[str, str]:
    """A refusal's fields as the form names them (the first message per field)."""
    found: dict[str, str] = {}
    for path, message in fields.items():
        found.setdefault(field_of(path), message)
    return found


def kept(form: FormData) -> dict[str, Any]:
    """What the user typed, to show again in a refused form (every value of a repeated name)."""
    values: dict[str, Any] = {}
    for key in form:
        every = [v for v in form.getlist(key) if isinstance(v, str)]
        values[key] = every if len(every) > 1 else (every[0] if every else "")
    return values
