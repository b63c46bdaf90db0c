-- The e-office boundary (services/approval/eoffice.py, docs/eoffice-webhook.md).

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

-- Every e-office disposition recorded: one Disposed per (tenant, disposition id), whatever the
-- number of deliveries. Written in the transaction that appends the Disposed event.
CREATE TABLE {schema}.eoffice_dispositions (
    tenant          text NOT NULL,
    disposition_id  text NOT NULL,
    request_id      text NOT NULL,
    event_id        uuid NOT NULL,
    delivery_id     text,
    accepted_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, disposition_id)
);

-- Finding a request by the e-office letter id its RequestSubmitted (consumed from intake) carries.
CREATE INDEX timeline_eoffice_letter ON {schema}.timeline ((payload ->> 'eoffice_letter_id'))
    WHERE event_type = 'RequestSubmitted';

GRANT SELECT, INSERT, UPDATE, DELETE ON {schema}.webhook_signatures TO {app_role};
GRANT SELECT, INSERT ON {schema}.eoffice_dispositions TO {app_role};
