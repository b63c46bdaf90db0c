"""schemathesis against every service in ``devstack.services.SERVICES``: each service runs as its
own process on the real Kafka and PostgreSQL and is called with real tokens of every role in
turn and, on the e-office webhook routes, with the tenant's HMAC signature (save every fifth
call). The cases come from the service's OpenAPI, which must be what the process serves at
``/openapi.json``.

Positive and negative cases from the schema's examples, its boundaries (the coverage phase) and
random generation, deterministic (one seed, derandomized) so that CI is reproducible. For every
case: no 5xx; the answer matches the documented schema and content type; input that breaks the
schema is refused; and a refused call (4xx) leaves every table of the service's schema as it was.

``JEJAK_FUZZ_EXAMPLES`` (random cases per operation and mode) and ``JEJAK_FUZZ_SEED`` change the
run: see ``docs/input-limits.md``."""

import os
from collections.abc import Callable

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
)

from devstack.services import SERVICES
from tests.fuzz.conftest import FuzzStack
from tests.fuzz.harness import changed
from tests.service_apps import openapi_document

EXAMPLES = int(os.environ.get("JEJAK_FUZZ_EXAMPLES", "20"))
SEED = int(os.environ.get("JEJAK_FUZZ_SEED", "20240214"))
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    content_type_conformance,
    negative_data_rejection,
]
schemathesis.serializer.alias("application/pdf", "application/octet-stream")
"""The documents' public check takes a PDF as its body: generated as any bytes."""

NOT_FUZZED = ["/notifications/stream"]
"""A Server-Sent Events stream never ends, so a call never answers: its parameters are checked
by the limits tests (tests/services/test_input_limits.py)."""


def fuzz(service: str) -> Callable[..., None]:
    """The test of one service: one pytest test per operation."""
    document = openapi_document(service)
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {"mode": "all", "max-examples": EXAMPLES, "deterministic": True},
            "phases": {"stateful": {"enabled": False}},
        }
    )
    schema = schemathesis.openapi.from_dict(document, config=config).exclude(path=NOT_FUZZED)

    @schema.parametrize()
    @settings(deadline=None, suppress_health_check=list(HealthCheck))
    def test(case: schemathesis.Case, fuzz_stack: FuzzStack) -> None:
        target = fuzz_stack.target(service, document)
        before = target.digest.read()
        response, sent = target.send(case)
        case.validate_response(
            response, checks=CHECKS, headers=sent["headers"], transport_kwargs=sent
        )
        if 400 <= response.status_code < 500:
            after = target.digest.read()
            assert not changed(before, after), (
                f"{case.operation.label} answered {response.status_code} but changed "
                f"{changed(before, after)}:\n{case.as_curl_command()}\n{response.text[:500]}"
            )

    test.__name__ = f"test_{service}_no_5xx_and_a_refused_call_changes_nothing"
    return test


for _service in SERVICES:
    globals()[f"test_{_service}"] = fuzz(_service)
