"""What the API fuzzer needs around schemathesis: who calls (a bearer token per role, in
rotation), the e-office signature for the webhook routes, ids of real requests to aim at some of
the calls, and a digest of a service's database schema to prove that a refused call changed
nothing."""

import itertools
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import psycopg
import requests
from psycopg import sql
from schemathesis import Case, Response
from schemathesis.core.parameters import ParameterLocation

from infra.webhook import DEVELOPMENT_SECRET, SIGNATURE_HEADER, sign

BOOKKEEPING_TABLES = frozenset(
    {
        "relay_position",  # moved by the outbox relay after it published an accepted call's events
        "checkpoints",  # signed by the relay's leader on its own schedule (infra.checkpoints)
        "processed_events",  # the consumer's record of what it handled, written asynchronously
        "login_attempts",  # a refused login must count: that is the lockout
        "webhook_signatures",  # expired signatures are forgotten on any authenticated delivery
    }
)
"""Tables a refused call may change by design, or that change on their own; every other table
of a service's schema must be exactly as it was after a 4xx."""

FORWARDED_FOR = "192.0.2.77"
"""The client address identity sees for the fuzzer's calls (a documentation address, RFC 5737):
its failed logins lock this address out, not the loopback address other tests log in from."""


class WebhookSignature(requests.auth.AuthBase):
    """Signs the exact bytes requests is about to send, as the tenant's e-office would."""

    def __init__(self, secret: str = DEVELOPMENT_SECRET) -> None:
        self.secret = secret

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        body = request.body or b""
        raw = body.encode() if isinstance(body, str) else body
        request.headers.update(sign(self.secret, urlsplit(request.url or "").path, raw))
        return request


def is_webhook(case: Case) -> bool:
    return any(p.name == SIGNATURE_HEADER for p in case.operation.headers)


def _negative_headers(case: Case) -> bool:
    """Whether the case's headers break the schema on purpose (e.g. the token or the signature
    left out): a token or a signature added would make them valid again."""
    return case.meta is not None and case.meta.is_negative_at(ParameterLocation.HEADER)


class StateDigest:
    """Row count and an order-free hash of every row, per table of one service's schema
    (bookkeeping tables left out), read with the owner connection."""

    def __init__(self, database_url: str, schema: str) -> None:
        self.conn = psycopg.connect(database_url, autocommit=True)
        tables = [
            row[0]
            for row in self.conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
                "AND table_type = 'BASE TABLE' ORDER BY table_name",
                (schema,),
            )
            if row[0] not in BOOKKEEPING_TABLES
        ]
        assert "events" in tables, f"{schema} has no event store: {tables}"
        self.tables = tables
        self.query = sql.SQL(" UNION ALL ").join(
            sql.SQL(
                "SELECT {name}, count(*), coalesce(sum(hashtextextended(t::text, 0)), 0) "
                "FROM {table} t"
            ).format(name=sql.Literal(name), table=sql.Identifier(schema, name))
            for name in tables
        )

    def read(self) -> dict[str, tuple[int, int]]:
        return {name: (count, int(total)) for name, count, total in self.conn.execute(self.query)}

    def settle(self, quiet_seconds: float = 1.5, timeout: float = 90.0) -> None:
        """Wait until nothing changes for ``quiet_seconds``: what other services or earlier
        calls set off (over Kafka) has landed before the fuzzer compares anything."""
        deadline = time.monotonic() + timeout
        last, quiet_since = self.read(), time.monotonic()
        while time.monotonic() - quiet_since < quiet_seconds:
            assert time.monotonic() < deadline, "the service's tables never settled"
            time.sleep(0.25)
            now = self.read()
            if now != last:
                last, quiet_since = now, time.monotonic()

    def close(self) -> None:
        self.conn.close()


def changed(
    before: Mapping[str, tuple[int, int]], after: Mapping[str, tuple[int, int]]
) -> list[str]:
    return [name for name in before if before[name] != after.get(name)]


@dataclass
class Aim:
    """Puts ids of real things into some of the generated calls' path parameters (every other
    one, in turn), so that the fuzzer gets past "not found" to the rules behind it."""

    known: Mapping[str, Sequence[str]]
    _turns: Counter[str] = field(default_factory=Counter)

    def apply(self, case: Case) -> None:
        if case.meta is not None and case.meta.is_negative_at(ParameterLocation.PATH):
            return  # a deliberately invalid path stays invalid
        for name, value in list((case.path_parameters or {}).items()):
            choices = self.known.get(name)
            if not choices or value in choices:
                continue
            turn = self._turns[name]
            self._turns[name] += 1
            if turn % 2:
                assert case.path_parameters is not None
                case.path_parameters[name] = choices[(turn // 2) % len(choices)]


@dataclass
class Callers:
    """A bearer token per role, handed out in turn."""

    tokens: Mapping[str, str]
    _order: Iterator[str] = field(init=False)

    def __post_init__(self) -> None:
        self._order = itertools.cycle(sorted(self.tokens))

    def next(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[next(self._order)]}"}


@dataclass
class Tally:
    """What one service's fuzzing did: cases by answer class and operations covered."""

    statuses: Counter[str] = field(default_factory=Counter)
    operations: set[str] = field(default_factory=set)
    started: float = field(default_factory=time.monotonic)
    last: float = 0.0

    def count(self, case: Case, status: int) -> None:
        self.statuses[f"{status // 100}xx"] += 1
        self.operations.add(case.operation.label)
        self.last = time.monotonic()

    @property
    def cases(self) -> int:
        return sum(self.statuses.values())

    def line(self, service: str) -> str:
        classes = ", ".join(f"{k} {v}" for k, v in sorted(self.statuses.items()))
        return (
            f"{service}: {self.cases} cases over {len(self.operations)} operations "
            f"({classes}) in {self.last - self.started:.0f} s"
        )


TALLIES: dict[str, Tally] = {}
"""Filled by the fuzz tests, printed in pytest's terminal summary."""


@dataclass
class Target:
    """One running service under the fuzzer."""

    service: str
    base_url: str
    digest: StateDigest
    callers: Callers
    aim: Aim
    tally: Tally
    calls: int = 0

    def send(self, case: Case) -> tuple[Response, dict[str, Any]]:
        """Send ``case`` as the next caller, aimed (sometimes) at a real thing, and signed if
        it is a webhook delivery (save every fifth). A case whose headers are invalid on purpose
        goes as it is, without a token or a signature."""
        self.aim.apply(case)
        caller = {} if _negative_headers(case) else self.callers.next()
        kwargs: dict[str, Any] = {
            "headers": {**caller, "X-Forwarded-For": FORWARDED_FOR},
            "timeout": 30,
        }
        if is_webhook(case) and self.calls % 5 and not _negative_headers(case):
            kwargs["auth"] = WebhookSignature()
        self.calls += 1
        response = case.call(base_url=self.base_url, **kwargs)
        self.tally.count(case, response.status_code)
        return response, {"base_url": self.base_url, **kwargs}
