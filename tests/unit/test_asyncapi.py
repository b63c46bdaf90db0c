"""The committed API documents (docs/asyncapi.json, docs/openapi/*.json) are what
docs/asyncapi_gen.py makes from the code now, and they describe every topic and event type."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from docs import asyncapi_gen
from events.catalog import ALL_EVENTS, EVENTS_BY_SERVICE, topic_of
from events.envelope import Envelope
from events.topics import SERVICES, SUBSCRIPTIONS, dead_letter_topic, topic_for

REGENERATE = "stale: run .venv/bin/python docs/asyncapi_gen.py and commit the result"


@pytest.fixture(scope="module")
def files() -> dict[Path, str]:
    return asyncapi_gen.rendered()


@pytest.fixture(scope="module")
def asyncapi() -> dict[str, Any]:
    return asyncapi_gen.asyncapi_document()


def test_committed_documents_are_up_to_date(files: dict[Path, str]) -> None:
    stale = [str(p.relative_to(asyncapi_gen.ROOT)) for p in asyncapi_gen.stale(files)]
    assert stale == [], f"{REGENERATE}: {stale}"


def test_check_mode_agrees() -> None:
    assert asyncapi_gen.main(["--check"]) == 0, REGENERATE


def test_every_event_type_is_a_message_on_its_services_topic(asyncapi: dict[str, Any]) -> None:
    messages = asyncapi["components"]["messages"]
    schemas = asyncapi["components"]["schemas"]
    assert set(messages) == {e.event_type() for e in ALL_EVENTS} | {"DeadLetter", "Checkpoint"}
    for service in SERVICES:  # every topic also carries its service's signed checkpoints
        checkpoint = asyncapi["channels"][topic_for(service)]["messages"]["Checkpoint"]
        assert checkpoint == {"$ref": "#/components/messages/Checkpoint"}
    assert messages["Checkpoint"]["headers"]["properties"]["record"]["const"] == "checkpoint"
    for event in ALL_EVENTS:
        name = event.event_type()
        channel = asyncapi["channels"][topic_of(name)]
        assert channel["messages"][name] == {"$ref": f"#/components/messages/{name}"}
        message = messages[name]
        assert message["headers"]["properties"]["event_type"]["const"] == name
        assert message["bindings"]["kafka"]["key"]["type"] == "string"
        record = schemas[f"{name}Record"]["allOf"]
        assert record[0] == {"$ref": "#/components/schemas/Envelope"}
        assert record[1]["properties"]["event_type"] == {"const": name}
        assert record[1]["properties"]["payload"] == {"$ref": f"#/components/schemas/{name}"}
        assert set(schemas[name]["properties"]) == set(event.model_fields), name


def test_every_topic_and_dead_letter_topic_is_a_channel(asyncapi: dict[str, Any]) -> None:
    topics = {topic_for(s) for s in SERVICES}
    dead_letters = {dead_letter_topic(s) for s in SERVICES if SUBSCRIPTIONS[s]}
    assert set(asyncapi["channels"]) == topics | dead_letters
    for name, channel in asyncapi["channels"].items():
        assert channel["address"] == channel["bindings"]["kafka"]["topic"] == name
    for service in SERVICES:
        published = asyncapi["operations"][f"{service}.publish"]
        assert published["action"] == "send"
        assert len(published["messages"]) == len(EVENTS_BY_SERVICE[service]) + 1  # checkpoints
        for upstream in SUBSCRIPTIONS[service]:
            consumed = asyncapi["operations"][f"{service}.consume.{upstream}"]
            assert consumed["channel"] == {"$ref": f"#/channels/{topic_for(upstream)}"}
            group = consumed["bindings"]["kafka"]["groupId"]["enum"]
            assert group == [f"jejak.{service}"]


def test_the_envelope_schema_has_every_envelope_field(asyncapi: dict[str, Any]) -> None:
    envelope = asyncapi["components"]["schemas"]["Envelope"]
    assert list(envelope["properties"]) == list(Envelope.model_fields)
    assert envelope["additionalProperties"] is False


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_every_reference_resolves(asyncapi: dict[str, Any]) -> None:
    refs = set(_refs(asyncapi))
    assert refs
    for ref in refs:
        assert ref.startswith("#/"), ref
        node: Any = asyncapi
        for part in ref[2:].split("/"):
            assert isinstance(node, dict) and part in node, f"unresolved {ref}"
            node = node[part]


def test_openapi_of_every_service(files: dict[Path, str]) -> None:
    names = {p.name for p in files if p.parent == asyncapi_gen.OPENAPI_DIR}
    assert names == {f"{s}.json" for s in SERVICES}
    reporting = json.loads(files[asyncapi_gen.OPENAPI_DIR / "reporting.json"])
    assert reporting["info"]["title"] == "Jejak reporting"
    assert {"/cases", "/cases/{request_id}", "/cases/{request_id}/timeline"} <= set(
        reporting["paths"]
    )
