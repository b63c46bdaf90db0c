"""A request's dev_tracking state as the JSON its HTTP API answers with. Pure."""

from typing import Any

from events.steps import step
from services.dev_tracking.state import DevState, current_step, who_must_act


def state_json(state: DevState) -> dict[str, Any]:
    """The state with the step it is at, who must act, the progress, every problem with its
    solution and every test run; ``minutes_numbers`` sorted so that the answer is stable."""
    data = state.model_dump(
        mode="json",
        exclude={"step", "percent", "progress_note", "manual_title", "manual_version"},
    )
    code = current_step(state)
    manual = (
        None
        if state.manual_version is None
        else {"title": state.manual_title, "version": state.manual_version}
    )
    return {
        **data,
        "current_step": code,
        "current_step_number": None if code is None else step(code).number,
        "who_must_act": who_must_act(state),
        "progress": {"percent": state.percent, "note": state.progress_note},
        "problems": [{**p.model_dump(mode="json"), "open": p.is_open} for p in state.problems],
        "open_problems": [p.problem_id for p in state.open_problems],
        "manual": manual,
        "minutes_numbers": sorted(state.minutes_numbers),
    }
