"""The inspector's file: one request's full history, every envelope with its hash chain, as JSON
or CSV. Each service's stream of the request is verified (``infra.eventstore.verify_chain``) and
the result is part of the file."""

import datetime as dt
import json
from typing import Any

from events.catalog import service_of
from events.envelope import Envelope
from infra.eventstore import verify_chain
from infra.spreadsheet import csv_text
from services.reporting.casefile import CaseFile
from services.reporting.views import delegation_label

CSV_COLUMNS = (
    "service",
    "stream_id",
    "stream_version",
    "event_id",
    "event_type",
    "schema_version",
    "occurred_at",
    "actor_user_id",
    "actor_role",
    "actor_opd",
    "on_behalf_of_user_id",
    "on_behalf_of_role",
    "on_behalf_of_kind",
    "acting_label",
    "tenant",
    "correlation_id",
    "causation_id",
    "step",
    "what",
    "document_numbers",
    "payload",
    "prev_hash",
    "hash",
)


def chains(envelopes: list[Envelope]) -> list[dict[str, Any]]:
    """Each service's stream of the request, verified: intact, or the first broken link."""
    lanes: dict[str, list[Envelope]] = {}
    for envelope in envelopes:
        lanes.setdefault(service_of(envelope.event_type), []).append(envelope)
    result = []
    for service, lane in sorted(lanes.items()):
        ordered = sorted(lane, key=lambda e: e.stream_version)
        broken = verify_chain(ordered)
        result.append(
            {
                "service": service,
                "events": len(ordered),
                "head_hash": ordered[-1].hash,
                "intact": broken is None,
                "first_broken_link": broken._asdict() if broken else None,
            }
        )
    return result


def _records(case: CaseFile) -> list[dict[str, Any]]:
    lines = {entry.event_id: entry for entry in case.timeline}
    records = []
    for envelope in case.history:
        body = envelope.model_dump(mode="json")
        line = lines.get(envelope.event_id)
        records.append(
            {
                "service": service_of(envelope.event_type),
                **body,
                "acting_label": delegation_label(envelope.actor.on_behalf_of),
                "step": line.step if line else None,
                "what": line.what if line else None,
                "document_numbers": list(line.document_numbers) if line else [],
            }
        )
    return records


def export_json(case: CaseFile, exported_at: dt.datetime, exported_by: str) -> dict[str, Any]:
    history = list(case.history)
    return {
        "request_id": case.request_id,
        "opd": case.opd,
        "title": case.title,
        "status": case.status,
        "exported_at": exported_at.isoformat(),
        "exported_by": exported_by,
        "event_count": len(history),
        "hash_algorithm": "SHA-256(prev_hash || canonical JSON of the envelope without hash)",
        "chains": chains(history),
        "events": _records(case),
    }


def _csv_row(record: dict[str, Any]) -> list[object]:
    actor = record["actor"]
    behalf = actor.get("on_behalf_of") or {}
    row: dict[str, object] = {
        "service": record["service"],
        "stream_id": record["stream_id"],
        "stream_version": record["stream_version"],
        "event_id": record["event_id"],
        "event_type": record["event_type"],
        "schema_version": record["schema_version"],
        "occurred_at": record["occurred_at"],
        "actor_user_id": actor["user_id"],
        "actor_role": actor["role"],
        "actor_opd": actor.get("opd") or "",
        "on_behalf_of_user_id": behalf.get("user_id", ""),
        "on_behalf_of_role": behalf.get("role", ""),
        "on_behalf_of_kind": behalf.get("kind", ""),
        "acting_label": record["acting_label"] or "",
        "tenant": record["tenant"],
        "correlation_id": record["correlation_id"],
        "causation_id": record["causation_id"] or "",
        "step": record["step"] or "",
        "what": record["what"] or "",
        "document_numbers": "; ".join(record["document_numbers"]),
        "payload": json.dumps(record["payload"], ensure_ascii=False, sort_keys=True),
        "prev_hash": record["prev_hash"],
        "hash": record["hash"],
    }
    return [row[column] for column in CSV_COLUMNS]


def export_csv(case: CaseFile) -> str:
    """One row per event; every cell safe to open in a spreadsheet (``infra.spreadsheet``)."""
    return csv_text(CSV_COLUMNS, [_csv_row(record) for record in _records(case)])
