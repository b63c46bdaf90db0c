"""How approval shows a request: its state as JSON, with the step it is at, who must act and the
sections its documents lack (listed for KABID_TI's completeness check)."""

from typing import Any

from events.completeness import SECTION_LABELS
from events.steps import step
from services.approval.domain import ApprovalState, current_step, who_must_act


def present(state: ApprovalState) -> dict[str, Any]:
    """The request's state as JSON plus ``current_step`` (code, number, label), ``who_must_act``
    and ``missing_sections`` (path and Indonesian label of each, in form order)."""
    code = current_step(state)
    here = step(code) if code is not None else None
    return {
        **state.model_dump(mode="json"),
        "current_step": code,
        "step_number": here.number if here else None,
        "step_label": here.label_id if here else None,
        "who_must_act": who_must_act(state),
        "missing_sections": [
            {"section": path, "label": SECTION_LABELS[path]} for path in state.missing_sections
        ],
    }
