-- The service's signed checkpoints (infra/checkpoints.py): each as signed and published, with
-- the store position it covers (every event up to it, in the relay's (txid, position) order).
-- A row is written before the checkpoint is published, and marked once it is on Kafka and in
-- the checkpoint file: an unmarked one is published again by the next relay leader.
CREATE TABLE {schema}.checkpoints (
    sequence      bigint PRIMARY KEY CHECK (sequence >= 1),
    txid          xid8 NOT NULL,
    position      bigint NOT NULL,
    body          text NOT NULL,
    published_at  timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now()
);

GRANT SELECT, INSERT ON {schema}.checkpoints TO {app_role};
GRANT UPDATE (published_at) ON {schema}.checkpoints TO {app_role};
