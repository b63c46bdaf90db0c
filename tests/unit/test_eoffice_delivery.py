"""The pure parts of the outbound e-office webhook: the retry schedule, what follows an attempt,
the body, the signature (verified with the same code that checks the inbound webhooks), and
which deliveries an admin may re-send."""

import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Literal

import pytest
from pydantic import ValidationError

from events.eoffice import StatusDelivered, StatusDeliveryParked
from events.reporting import CaseStatusChanged, StepRef
from events.steps import StepCode, step
from infra import webhook
from services.eoffice.backoff import RetryPolicy
from services.eoffice.config import EofficeConfig, InsecureCallback
from services.eoffice.delivery import (
    AttemptResult,
    Due,
    NotParked,
    StatusNotice,
    after_attempt,
    check_resend,
    notice_body,
)
from services.eoffice.outbound import ATTEMPT_HEADER, signed_headers

NOW = dt.datetime(2024, 6, 11, 2, 30, tzinfo=dt.UTC)
CHANGE = CaseStatusChanged(
    request_id="0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
    opd="DINKES",
    eoffice_letter_id="SRK-2024-000123",
    sequence=3,
    previous_status="OPEN",
    status="OPEN",
    previous_step=StepRef(code="DISPOSE", number=3, label="Disposisi"),
    step=StepRef(code="VERIFY", number=4, label="Memeriksa kelengkapan"),
    who_must_act="KABID_TI",
    document_numbers=("005/77/DISKOMINFOSTANDI/VI/2024",),
    cause_event_id=uuid.UUID("0190a1b2-c3d6-7000-8000-000000000001"),
    cause_event_type="Disposed",
    cause_occurred_at=NOW,
)
CALLBACK = "https://eoffice.katingankab.go.id/jejak/status"
"""The contract page's example of the e-office's receiver."""


def due(attempts: int) -> Due:
    return Due(uuid.uuid4(), "katingan", CHANGE.request_id, 3, uuid.uuid4(), b"{}", attempts, 9)


def test_the_backoff_doubles_from_the_initial_wait_with_jitter_up_to_the_cap() -> None:
    policy = RetryPolicy(budget=10, initial_seconds=10, max_seconds=300)
    for attempt in range(1, 12):
        low, high = policy.bounds(attempt)
        waits = [policy.wait_after(attempt) for _ in range(200)]
        assert all(low <= w <= high for w in waits), (attempt, low, high)
        if high > low:
            assert len(set(waits)) > 1  # jittered: replicas do not retry in step
    assert policy.bounds(1) == (10, 20)
    assert policy.bounds(3) == (40, 50)
    assert policy.bounds(6) == (300, 300)  # 320 is over the cap
    assert policy.bounds(10_000) == (300, 300)  # no overflow however long it went on
    assert policy.wait_after(10_000) == 300
    assert not policy.exhausted(9) and policy.exhausted(10)
    with pytest.raises(ValueError):
        policy.wait_after(0)
    for bad in ((0, 1, 2), (3, 0, 2), (3, 5, 2)):
        with pytest.raises(ValueError):
            RetryPolicy(*bad)


def test_an_attempt_delivers_retries_or_parks() -> None:
    policy = RetryPolicy(budget=3, initial_seconds=10, max_seconds=60)
    delivered = after_attempt(due(2), AttemptResult(204), policy, NOW)
    assert delivered.state == "DELIVERED" and delivered.next_attempt_at is None
    assert isinstance(delivered.event, StatusDelivered)
    assert (delivered.event.attempts, delivered.event.http_status) == (2, 204)

    for result in (AttemptResult(503, "HTTP 503: sibuk"), AttemptResult(None, "ConnectError:")):
        retry = after_attempt(due(2), result, policy, NOW)
        assert retry.state == "PENDING" and retry.event is None
        assert retry.next_attempt_at is not None
        assert dt.timedelta(seconds=20) <= retry.next_attempt_at - NOW <= dt.timedelta(seconds=30)

    parked = after_attempt(due(3), AttemptResult(500, "HTTP 500:\n  boom\n"), policy, NOW)
    assert parked.state == "PARKED" and parked.next_attempt_at is None
    assert isinstance(parked.event, StatusDeliveryParked)
    assert (parked.event.attempts, parked.event.last_http_status) == (3, 500)
    assert parked.event.last_error == "HTTP 500: boom"  # one line
    # a 3xx is no delivery (redirects are not followed)
    assert not AttemptResult(301).accepted and AttemptResult(299).accepted
    assert AttemptResult(None, "x" * 1000).problem == "x" * 300


def test_the_body_is_the_change_with_its_delivery_id_and_tenant() -> None:
    delivery_id = uuid.uuid4()
    body = notice_body(delivery_id, "katingan", CHANGE)
    parsed = json.loads(body)
    assert parsed["delivery_id"] == str(delivery_id)
    assert (parsed["type"], parsed["schema_version"], parsed["tenant"]) == (
        "CaseStatusChanged",
        1,
        "katingan",
    )
    assert parsed["change"] == CHANGE.model_dump(mode="json")
    assert StatusNotice.model_validate_json(body).change == CHANGE
    assert notice_body(delivery_id, "katingan", CHANGE) == body  # the same bytes every time


def test_every_attempt_is_signed_as_the_inbound_webhooks_are() -> None:
    secret = "rahasia-bersama-" + "k" * 24
    url, path = "https://eoffice.example/jejak/status?tenant=katingan", "/jejak/status"
    delivery_id = uuid.uuid4()
    body = notice_body(delivery_id, "katingan", CHANGE)
    headers = signed_headers((secret,), url, body, delivery_id, 2, 1718000000)
    verified = webhook.verify((secret,), path, headers, body, 1718000000 + 10, 300)
    assert verified.delivery_id == str(delivery_id)
    expected = webhook.signature(secret, 1718000000, path, body)
    assert headers[webhook.SIGNATURE_HEADER] == "v2=" + expected
    assert (headers[ATTEMPT_HEADER], headers["Content-Type"]) == ("2", "application/json")
    with pytest.raises(webhook.WebhookRefused):
        webhook.verify(("another-secret",), path, headers, body, 1718000000, 300)
    with pytest.raises(webhook.WebhookRefused):
        webhook.verify((secret,), path, headers, body + b" ", 1718000000, 300)
    with pytest.raises(webhook.WebhookRefused):  # the path is signed: not good for another
        webhook.verify((secret,), "/jejak/other", headers, body, 1718000000, 300)
    later = signed_headers((secret,), url, body, delivery_id, 3, 1718000030)  # signed afresh
    assert later[webhook.SIGNATURE_HEADER] != headers[webhook.SIGNATURE_HEADER]
    assert later[webhook.DELIVERY_HEADER] == headers[webhook.DELIVERY_HEADER]


def test_while_a_secret_is_rotated_every_attempt_is_signed_with_each() -> None:
    new, old = "rahasia-baru-" + "n" * 24, "rahasia-lama-" + "o" * 24
    delivery_id = uuid.uuid4()
    body = notice_body(delivery_id, "katingan", CHANGE)
    headers = signed_headers((new, old), "https://e.example/s", body, delivery_id, 1, 1718000000)
    entries = headers[webhook.SIGNATURE_HEADER].split(",")
    assert entries == [f"v2={webhook.signature(k, 1718000000, '/s', body)}" for k in (new, old)]
    for receiver_knows in ((new,), (old,)):  # a receiver on either side of its own rotation
        webhook.verify(receiver_knows, "/s", headers, body, 1718000000, 300)
    # Jejak's own receivers say whether the current secret signed (logged when it did not)
    assert webhook.verify((new, old), "/s", headers, body, 1718000000, 300).current_secret
    only_old = webhook.sign(old, "/s", body, 1718000000)
    assert not webhook.verify((new, old), "/s", only_old, body, 1718000000, 300).current_secret


def test_production_sends_status_changes_only_over_https() -> None:
    def check(url: str, environment: Literal["development", "production"]) -> None:
        EofficeConfig(callback_url=url).check_callback(environment)  # type: ignore[arg-type]

    check("https://eoffice.example/jejak", "production")
    for url in ("http://eoffice.example/jejak", "http://127.0.0.1:8080/jejak"):
        with pytest.raises(InsecureCallback, match="harus https di produksi"):
            check(url, "production")
    for url in ("http://127.0.0.1:8080/j", "http://localhost/j", "http://[::1]/j"):
        check(url, "development")  # the machine itself
    with pytest.raises(InsecureCallback, match="hanya boleh ke mesin ini"):
        check("http://10.0.0.5/jejak", "development")


def test_only_a_parked_delivery_can_be_resent() -> None:
    check_resend("PARKED")
    for state in ("PENDING", "DELIVERED"):
        with pytest.raises(NotParked) as refused:
            check_resend(state)  # type: ignore[arg-type]
        assert refused.value.status == 409 and refused.value.detail()["state"] == state


def test_the_settings_refuse_a_cap_below_the_first_wait() -> None:
    with pytest.raises(ValidationError, match="max_backoff_seconds"):
        EofficeConfig(initial_backoff_seconds=60, max_backoff_seconds=10)
    with pytest.raises(ValidationError, match="callback_url"):
        EofficeConfig(callback_url="ftp://eoffice")  # type: ignore[arg-type]
    assert EofficeConfig(callback_url=" ").callback_url is None  # type: ignore[arg-type]
    config = EofficeConfig(callback_url="https://eoffice.example/jejak", retry_budget=4)  # type: ignore[arg-type]
    assert config.policy == RetryPolicy(4, 10.0, 3600.0)
    assert config.lease_seconds > config.attempt_timeout_seconds


def test_a_change_says_exactly_the_first_has_nothing_before_it() -> None:
    with pytest.raises(ValidationError, match="sequence 1"):
        CaseStatusChanged.model_validate({**CHANGE.model_dump(), "sequence": 1})
    first = {**CHANGE.model_dump(), "sequence": 1, "previous_status": None, "previous_step": None}
    assert CaseStatusChanged.model_validate(first).sequence == 1


def test_the_worked_example_of_the_contract_page_is_what_jejak_sends() -> None:
    page = (Path(__file__).parents[2] / "docs" / "eoffice-webhook.md").read_text()
    outbound = page[page.index("## Outbound") :]
    secret, timestamp = "contoh-rahasia-katingan-0123456789abcdef", 1718073005

    def ref(code: StepCode) -> StepRef:
        return StepRef(code=code, number=step(code).number, label=step(code).label_id)

    change = CHANGE.model_copy(
        update={
            "previous_step": ref("DISPOSE"),
            "step": ref("VERIFY"),
            "cause_event_id": uuid.UUID("0190a1b9-5e21-7c3a-9d4e-5f6a7b8c9d0e"),
        }
    )
    delivery_id = uuid.UUID("0190a1b9-5e40-7a11-b2c3-d4e5f6a7b8c9")
    body = notice_body(delivery_id, "katingan", change)
    headers = signed_headers((secret,), CALLBACK, body, delivery_id, 1, timestamp)
    assert f"exactly these {len(body)} bytes" in outbound
    assert f"\n{body.decode()}\n" in outbound
    for name in (webhook.TIMESTAMP_HEADER, webhook.SIGNATURE_HEADER, webhook.DELIVERY_HEADER):
        assert f"{name}: {headers[name]}" in outbound
    pretty = outbound[outbound.index("```json\n") + 8 :]
    assert json.loads(pretty[: pretty.index("```")]) == json.loads(body)
    assert 'openssl dgst -sha256 -hmac "$SECRET"' in outbound
