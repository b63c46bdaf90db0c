"""How intake shows a request: its state as JSON, with where it stands and who must act."""

from typing import Any

from events.steps import step
from services.intake.domain import RequestState, current_step, who_must_act


def state_view(state: RequestState) -> dict[str, Any]:
    here = current_step(state)
    return {
        **state.model_dump(mode="json"),
        "current_step": here,
        "step_number": step(here).number,
        "step_label": step(here).label_id,
        "who_must_act": who_must_act(state),
        "missing_sections": state.missing_sections,
    }
