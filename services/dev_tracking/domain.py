"""dev_tracking's pure domain in one import: state, evolve/fold, decide and who acts.

The state lives in ``state.py`` and the decisions in ``decide.py``; this module re-exports them.
"""

from services.dev_tracking.commands import (
    Command,
    DevTrackingCommand,
    PublishManual,
    RecordProblem,
    RecordTestResult,
    RecordUat,
    ReportProgress,
    SolveProblem,
    StartDevelopment,
)
from services.dev_tracking.decide import (
    ADMITTED,
    GET_REQUEST,
    LIST_REQUESTS,
    DevAction,
    DevActions,
    admitted,
    available_actions,
    decide,
    ensure_visible,
    required_role,
    rule_of,
    uat_results,
)
from services.dev_tracking.period import DEFAULT_GRACE, Grace, OutsidePeriod
from services.dev_tracking.state import (
    DevState,
    Problem,
    TestRun,
    current_step,
    evolve,
    fold,
    who_must_act,
)

__all__ = [
    "ADMITTED",
    "DEFAULT_GRACE",
    "GET_REQUEST",
    "LIST_REQUESTS",
    "Command",
    "DevAction",
    "DevActions",
    "DevState",
    "DevTrackingCommand",
    "Grace",
    "OutsidePeriod",
    "Problem",
    "PublishManual",
    "RecordProblem",
    "RecordTestResult",
    "RecordUat",
    "ReportProgress",
    "SolveProblem",
    "StartDevelopment",
    "TestRun",
    "admitted",
    "available_actions",
    "current_step",
    "decide",
    "ensure_visible",
    "evolve",
    "fold",
    "required_role",
    "rule_of",
    "uat_results",
    "who_must_act",
]
