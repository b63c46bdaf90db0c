-- intake's own tables beside its event store and timeline.

-- Uploaded files, content-addressed: the bytes are stored once under their SHA-256 digest.
-- The media type is the one of the first upload of these bytes.
CREATE TABLE {schema}.attachments (
    sha256       text PRIMARY KEY,
    size_bytes   bigint NOT NULL CHECK (size_bytes >= 1),
    media_type   text NOT NULL,
    content      bytea NOT NULL,
    uploaded_at  timestamptz NOT NULL DEFAULT now()
);

-- Who uploaded which bytes: a requester may reference only what it uploaded itself or what a
-- request of its own OPD already references (a digest alone grants nothing).
CREATE TABLE {schema}.attachment_uploads (
    sha256       text NOT NULL REFERENCES {schema}.attachments,
    user_id      text NOT NULL,
    uploaded_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (sha256, user_id)
);

-- The requests intake knows, as their events say; updated in the same transaction as each
-- append or consumed event. A read model only: the timeline stays the truth.
CREATE TABLE {schema}.requests (
    request_id    text PRIMARY KEY,
    opd           text NOT NULL,
    title         text NOT NULL,
    status        text NOT NULL,
    step          text NOT NULL,
    who_must_act  text,
    submitted_at  timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX requests_opd ON {schema}.requests (opd, submitted_at DESC);
CREATE INDEX requests_submitted ON {schema}.requests (submitted_at DESC);

-- Every attachment any version of a request referenced (who may download it).
CREATE TABLE {schema}.request_attachments (
    sha256      text NOT NULL,
    request_id  text NOT NULL,
    PRIMARY KEY (sha256, request_id)
);

-- Idempotent submits: the first answer to (user, Idempotency-Key), kept with a fingerprint of
-- the body so that a key reused for another body is refused.
CREATE TABLE {schema}.idempotency_keys (
    user_id      text NOT NULL,
    key          text NOT NULL,
    fingerprint  text NOT NULL,
    status_code  integer NOT NULL,
    response     jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);

GRANT SELECT, INSERT ON {schema}.attachments TO {app_role};
GRANT SELECT, INSERT ON {schema}.attachment_uploads TO {app_role};
GRANT SELECT, INSERT, UPDATE ON {schema}.requests TO {app_role};
GRANT SELECT, INSERT ON {schema}.request_attachments TO {app_role};
GRANT SELECT, INSERT ON {schema}.idempotency_keys TO {app_role};
