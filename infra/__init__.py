"""Infrastructure every Jejak service shares: settings, logging, database, event store, outbox
relay, idempotent consumer. Domain code never imports it."""
