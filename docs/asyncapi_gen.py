"""Generate the API documents: ``docs/asyncapi.json`` (every Kafka topic) and
``docs/openapi/<service>.json`` (every service's HTTP API).

    .venv/bin/python docs/asyncapi_gen.py          # write them
    .venv/bin/python docs/asyncapi_gen.py --check  # exit 1 if a committed one is stale

``tests/unit/test_asyncapi.py`` runs the check, so the documents never drift from the code.

**AsyncAPI 3.0.** Built here from plain dicts and the pydantic models' JSON Schemas
(``events.catalog.EVENTS_BY_SERVICE``, ``events.envelope.Envelope``), not by FastStream's
generator: FastStream makes one channel per publisher with one message each, and has no way to
say what a record's key or headers are; here one channel per topic carries one message per event
type, each with the record key (the stream id), the headers the outbox relay sets
(``infra.relay.message_of``) and the envelope whose ``payload`` is that event's model. The
dead-letter topics carry the original value with the error as headers
(``infra.consumer.dead_letter_to``). Operations say which service publishes on which topic and
which consumer group reads it (``events.topics.SUBSCRIPTIONS``).

**OpenAPI.** ``create_app(settings).openapi()`` of every service; building the app connects to
nothing (that happens in its lifespan), so this runs without servers.
"""

import argparse
import importlib
import inspect
import json
import sys
import tempfile
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from events.base import DomainEvent
from events.catalog import EVENTS_BY_SERVICE
from events.checkpoint import CHECKPOINT_KEY, Checkpoint
from events.envelope import Envelope
from events.topics import (
    SERVICES,
    SUBSCRIPTIONS,
    Service,
    consumer_group_for,
    dead_letter_topic,
    topic_for,
)
from infra.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
ASYNCAPI_PATH = ROOT / "docs" / "asyncapi.json"
OPENAPI_DIR = ROOT / "docs" / "openapi"
KAFKA_BINDING = "0.5.0"
SCHEMAS = "#/components/schemas/"

STREAM_KEYS: dict[Service, str] = {
    "identity": "The stream id: an OPD's code, a user's id or a delegation's id. All events of "
    "one stream are in one partition, in stream order.",
    **{
        service: "The stream id: the request id (a UUIDv7). All of one request's events from "
        "this service are in one partition, in stream order."
        for service in ("intake", "approval", "dev_tracking", "reporting", "eoffice", "documents")
    },
}


def _version() -> str:
    return str(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"])


def _doc(model: type[BaseModel]) -> str:
    return inspect.cleandoc(model.__doc__ or model.__name__)


def _schemas(models: list[type[BaseModel]]) -> dict[str, Any]:
    """The models' JSON Schemas (as serialised on the wire), each under its own name, with every
    nested model as a schema of its own, all referring to each other by ``$ref``."""
    _, top = models_json_schema(
        [(m, "serialization") for m in models], ref_template=SCHEMAS + "{model}"
    )
    defs: dict[str, Any] = top.get("$defs", {})
    return dict(sorted(defs.items()))


def _record_schema(event: type[DomainEvent], upcast: bool) -> dict[str, Any]:
    """The envelope of one event type: ``Envelope`` with that type's name and payload."""
    version: dict[str, Any] = {"const": event.schema_version}
    if upcast:
        version = {
            "type": "integer",
            "minimum": 1,
            "maximum": event.schema_version,
            "description": f"Records written before version {event.schema_version} keep "
            "their older version and payload; consumers lift them to the current shape with "
            "the upcasters of events.catalog.default_registry().",
        }
    return {
        "title": f"{event.event_type()} record",
        "allOf": [
            {"$ref": f"{SCHEMAS}Envelope"},
            {
                "type": "object",
                "properties": {
                    "event_type": {"const": event.event_type()},
                    "schema_version": version,
                    "payload": {"$ref": f"{SCHEMAS}{event.event_type()}"},
                },
            },
        ],
    }


def _headers(event_type: str | None) -> dict[str, Any]:
    """The headers the outbox relay gives every record (``infra.relay.message_of``)."""
    kind: dict[str, Any] = {"type": "string", "description": "The envelope's event_type"}
    if event_type is not None:
        kind["const"] = event_type
    return {
        "type": "object",
        "required": ["event_type", "event_id", "schema_version"],
        "properties": {
            "event_type": kind,
            "event_id": {
                "type": "string",
                "format": "uuid",
                "description": "The envelope's event_id (UUIDv7)",
            },
            "schema_version": {
                "type": "string",
                "pattern": "^[1-9][0-9]*$",
                "description": "The envelope's schema_version, in decimal",
            },
        },
    }


def _message(service: Service, event: type[DomainEvent]) -> dict[str, Any]:
    doc = _doc(event)
    return {
        "name": event.event_type(),
        "title": event.event_type(),
        "summary": doc.splitlines()[0],
        "description": doc,
        "contentType": "application/json",
        "headers": _headers(event.event_type()),
        "payload": {"$ref": f"{SCHEMAS}{event.event_type()}Record"},
        "correlationId": {"$ref": "#/components/correlationIds/intent"},
        "bindings": {
            "kafka": {
                "key": {"type": "string", "description": STREAM_KEYS[service]},
                "bindingVersion": KAFKA_BINDING,
            }
        },
    }


CHECKPOINT: dict[str, Any] = {
    "name": "Checkpoint",
    "title": "Signed checkpoint",
    "summary": "The service's signature over the heads of its event store's streams; no event.",
    "description": "Published by the service's relay leader after the events it covers, every "
    "CHECKPOINT_EVERY_EVENTS events or CHECKPOINT_INTERVAL_SECONDS (infra/checkpoints.py). "
    "Every consumer skips a record with the header record=checkpoint (it is no envelope); "
    "jejak audit verify checks the store and the topic against it "
    "(docs/inspectors.md, 'Signed checkpoints'). The same checkpoint may be published twice.",
    "contentType": "application/json",
    "headers": {
        "type": "object",
        "required": ["record"],
        "properties": {"record": {"const": "checkpoint", "description": "Not an event"}},
    },
    "payload": {"$ref": f"{SCHEMAS}Checkpoint"},
    "bindings": {
        "kafka": {
            "key": {"type": "string", "const": CHECKPOINT_KEY.decode()},
            "bindingVersion": KAFKA_BINDING,
        }
    },
}

DEAD_LETTER: dict[str, Any] = {
    "name": "DeadLetter",
    "title": "Dead letter",
    "summary": "A record the consumer group can never handle, with the reason.",
    "description": "Written only for a record that does not parse as an envelope, has an "
    "unknown event type, or whose handler fails for a reason other than a transient one "
    "(those are retried and left for redelivery instead). The value is the original "
    "record's value byte for byte; the record has no key. The consumer then records the "
    "event as dead-lettered and moves on. Replaying a dead-letter topic into its group is an "
    "operator's action.",
    "contentType": "application/octet-stream",
    "headers": {
        "type": "object",
        "required": ["error", "topic"],
        "properties": {
            "error": {"type": "string", "description": "Why it can never be handled"},
            "topic": {"type": "string", "description": "The topic it was read from"},
            "event_id": {
                "type": "string",
                "format": "uuid",
                "description": "The envelope's event_id; absent if the value is not "
                "a valid envelope",
            },
            "correlation_id": {
                "type": "string",
                "description": "Set by FastStream when publishing; unrelated "
                "to the envelope's correlation_id",
            },
            "content-type": {"type": "string", "description": "Set by FastStream; empty"},
        },
    },
    "payload": {
        "type": "string",
        "format": "binary",
        "description": "The original record's value: normally an envelope's JSON (see "
        "Envelope), or the bytes that failed to parse as one.",
    },
    "bindings": {
        "kafka": {
            "key": {"type": "null", "description": "Not set"},
            "bindingVersion": KAFKA_BINDING,
        }
    },
}


def _channel_bindings(topic: str) -> dict[str, Any]:
    partitions = Settings.model_fields["kafka_topic_partitions"].default
    return {
        "kafka": {
            "topic": topic,
            "partitions": partitions,
            "topicConfiguration": {"retention.ms": -1, "retention.bytes": -1},
            "bindingVersion": KAFKA_BINDING,
        }
    }


def _group(service: Service) -> dict[str, Any]:
    group = consumer_group_for(service)
    return {
        "kafka": {"groupId": {"type": "string", "enum": [group]}, "bindingVersion": KAFKA_BINDING}
    }


def asyncapi_document() -> dict[str, Any]:
    """The AsyncAPI 3.0 document of every topic."""
    events = [e for s in SERVICES for e in EVENTS_BY_SERVICE[s]]
    schemas = _schemas([Envelope, Checkpoint, *events])
    for event in events:
        schemas[f"{event.event_type()}Record"] = _record_schema(event, event.schema_version > 1)
    messages: dict[str, Any] = {}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    consumers = [s for s in SERVICES if SUBSCRIPTIONS[s]]
    for service in SERVICES:
        topic = topic_for(service)
        owned = EVENTS_BY_SERVICE[service]
        for event in owned:
            messages[event.event_type()] = _message(service, event)
        readers = [s for s in consumers if service in SUBSCRIPTIONS[s]]
        channels[topic] = {
            "address": topic,
            "title": f"{service}'s events",
            "description": f"Every event the {service} service emits, published by its "
            f"transactional outbox relay in the store's commit order (at least once: a "
            "consumer drops a repeated event_id). Kept forever: the topics are the "
            f"replayable history. Read by the consumer groups of {', '.join(readers)}.",
            "messages": {
                **{
                    e.event_type(): {"$ref": f"#/components/messages/{e.event_type()}"}
                    for e in owned
                },
                "Checkpoint": {"$ref": "#/components/messages/Checkpoint"},
            },
            "bindings": _channel_bindings(topic),
        }
        operations[f"{service}.publish"] = {
            "action": "send",
            "title": f"{service} publishes its events",
            "summary": "The outbox relay: each event once committed, key = stream id",
            "channel": {"$ref": f"#/channels/{topic}"},
            "messages": [
                *({"$ref": f"#/channels/{topic}/messages/{e.event_type()}"} for e in owned),
                {"$ref": f"#/channels/{topic}/messages/Checkpoint"},
            ],
        }
    for service in consumers:
        dlq = dead_letter_topic(service)
        channels[dlq] = {
            "address": dlq,
            "title": f"{service}'s dead letters",
            "description": f"Records consumer group {consumer_group_for(service)} can never "
            "handle.",
            "messages": {"DeadLetter": {"$ref": "#/components/messages/DeadLetter"}},
            "bindings": _channel_bindings(dlq),
        }
        for upstream in SUBSCRIPTIONS[service]:
            topic = topic_for(upstream)
            operations[f"{service}.consume.{upstream}"] = {
                "action": "receive",
                "title": f"{service} consumes {upstream}'s events",
                "summary": f"Consumer group {consumer_group_for(service)}: each event's effect "
                "once (the handler's transaction records its event_id)",
                "channel": {"$ref": f"#/channels/{topic}"},
                "messages": [
                    {"$ref": f"#/channels/{topic}/messages/{e.event_type()}"}
                    for e in EVENTS_BY_SERVICE[upstream]
                ],
                "bindings": _group(service),
            }
        operations[f"{service}.deadLetter"] = {
            "action": "send",
            "title": f"{service} dead-letters what it can never handle",
            "channel": {"$ref": f"#/channels/{dlq}"},
            "messages": [{"$ref": f"#/channels/{dlq}/messages/DeadLetter"}],
        }
    messages["DeadLetter"] = DEAD_LETTER
    messages["Checkpoint"] = CHECKPOINT
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Jejak events",
            "version": _version(),
            "description": "The Kafka topics of Jejak: one events topic per service "
            "(jejak.<service>.events, keyed by stream id, kept forever) and one dead-letter "
            "topic per consumer group (<group>.dlq). Every record's value is an envelope "
            "(who, when, which stream, hash chain) around one domain event's payload. "
            "Generated by docs/asyncapi_gen.py from the pydantic models; do not edit.",
        },
        "defaultContentType": "application/json",
        "servers": {
            "kafka": {
                "host": Settings.model_fields["kafka_bootstrap_servers"].default,
                "protocol": "kafka",
                "description": "The brokers named by KAFKA_BOOTSTRAP_SERVERS (the development "
                "default is shown)",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "schemas": schemas,
            "messages": messages,
            "correlationIds": {
                "intent": {
                    "location": "$message.payload#/correlation_id",
                    "description": "Shared by every event of one user intent, across services",
                }
            },
        },
    }


# OpenAPI --------------------------------------------------------------------------------------


def openapi_documents() -> dict[str, dict[str, Any]]:
    """``create_app(settings).openapi()`` of every service, by service name."""
    documents: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as keys:
        for service in SERVICES:
            module = importlib.import_module(f"services.{service}.bootstrap")
            create_app: Callable[[Settings], FastAPI] = module.create_app
            settings = Settings(
                service_name=service, jwt_key_dir=keys, root_path="", environment="development"
            )
            documents[service] = create_app(settings).openapi()
    return documents


# Writing and checking -------------------------------------------------------------------------


def _text(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def rendered() -> dict[Path, str]:
    """Every generated file's path and its expected content."""
    files = {ASYNCAPI_PATH: _text(asyncapi_document())}
    for service, document in openapi_documents().items():
        files[OPENAPI_DIR / f"{service}.json"] = _text(document)
    return files


def stale(files: dict[Path, str]) -> list[Path]:
    """The files whose committed content differs from ``files`` (or that are missing)."""
    return [p for p, text in files.items() if not p.exists() or p.read_text() != text]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale documents")
    check = parser.parse_args(argv).check
    files = rendered()
    outdated = stale(files)
    if check:
        for path in outdated:
            print(f"stale: {path.relative_to(ROOT)}", file=sys.stderr)
        return 1 if outdated else 0
    OPENAPI_DIR.mkdir(parents=True, exist_ok=True)
    for path in outdated:
        path.write_text(files[path])
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
