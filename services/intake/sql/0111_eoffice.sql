-- The e-office boundary (services/intake/eoffice.py, docs/eoffice-webhook.md).

-- Signatures of accepted webhook deliveries (SHA-256 of the signature's hex), kept until their
-- timestamp leaves the allowed window; a signature seen again inside it is a replay. Spent in the
-- transaction of the effect it authorised. (UPDATE only for the pruning's FOR UPDATE SKIP LOCKED.)
CREATE TABLE {schema}.webhook_signatures (
    signature_sha256  text PRIMARY KEY,
    signed_at         timestamptz NOT NULL,
    expires_at        timestamptz NOT NULL,
    delivery_id       text,
    accepted_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_signatures_expiry ON {schema}.webhook_signatures (expires_at);

-- Every e-office letter that became a request: one request per (tenant, letter id), whatever
-- the number of deliveries. Written in the transaction that appends the request's first events.
-- The letter as posted (attachment URLs included, which the events do not carry) is kept beside.
CREATE TABLE {schema}.eoffice_letters (
    tenant        text NOT NULL,
    letter_id     text NOT NULL,
    request_id    text NOT NULL UNIQUE,
    delivery_id   text,
    letter        jsonb NOT NULL,
    accepted_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, letter_id)
);

GRANT SELECT, INSERT, UPDATE, DELETE ON {schema}.webhook_signatures TO {app_role};
GRANT SELECT, INSERT ON {schema}.eoffice_letters TO {app_role};
