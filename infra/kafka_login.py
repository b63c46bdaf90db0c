"""Where Kafka is and as whom a client connects: SASL/SCRAM-SHA-512, over TLS when a CA is
given (a cluster's listener, ``deploy/``), in the clear on loopback (the local stack).

Every Kafka client of the project (FastStream's broker, aiokafka's producers, consumers and
admin clients) takes its options from a ``KafkaLogin``, so none connects unauthenticated."""

import ssl
from dataclasses import dataclass, field, replace
from typing import Any

from faststream.kafka import KafkaBroker
from faststream.kafka.security import parse_security
from faststream.security import SASLScram512


@dataclass(frozen=True)
class KafkaLogin:
    bootstrap_servers: str
    """Comma-separated ``host:port`` of the brokers."""
    username: str
    password: str = field(repr=False)
    ssl_ca_pem: str | None = field(default=None, repr=False)
    """The brokers' CA (PEM): set, the connection is TLS (SASL_SSL)."""

    def as_user(self, username: str, password: str | None = None) -> "KafkaLogin":
        """The same brokers as another principal (with this password unless one is given)."""
        return replace(self, username=username, password=password or self.password)

    def security(self) -> SASLScram512:
        """FastStream's form (``KafkaBroker(..., security=...)``)."""
        context = ssl.create_default_context(cadata=self.ssl_ca_pem) if self.ssl_ca_pem else None
        return SASLScram512(self.username, self.password, ssl_context=context)

    def broker(self, **options: Any) -> KafkaBroker:
        """A FastStream broker (not started) that connects as this login."""
        # one address per item: a comma-separated string would stay one item
        servers = self.bootstrap_servers.split(",")
        return KafkaBroker(servers, security=self.security(), **options)

    def options(self) -> dict[str, Any]:
        """aiokafka's form: ``AIOKafkaProducer(**login.options(), ...)`` and the same for a
        consumer or an admin client."""
        return {"bootstrap_servers": self.bootstrap_servers, **parse_security(self.security())}
