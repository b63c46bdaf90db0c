-- reporting's live notifications (services/reporting/notifications.py). Derived from the cases
-- like every read model here, except the read marks, which users make.
-- Placeholders: {schema}, {app_role}.

-- One notice to one addressee: a user (user_id), or every holder of a role, within one OPD if
-- opd is set. seq numbers the notices in commit order (store_notices serialises its inserts
-- with an advisory lock) and is the Server-Sent Events id a client resumes from.
CREATE TABLE {schema}.notices (
    seq         bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    notice_id   uuid PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('ACTION', 'SLA_BREACH')),
    role        text NOT NULL,
    opd         text,
    user_id     text,
    request_id  text NOT NULL,
    step        text NOT NULL,
    message     text NOT NULL,
    created_at  timestamptz NOT NULL,
    event_id    uuid,
    stored_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX notices_role ON {schema}.notices (role, seq) WHERE user_id IS NULL;
CREATE INDEX notices_user ON {schema}.notices (user_id, seq) WHERE user_id IS NOT NULL;
CREATE INDEX notices_request ON {schema}.notices (request_id, seq);

-- Which user has read which notice: a role's notice is read or unread per user.
CREATE TABLE {schema}.notice_reads (
    notice_id  uuid NOT NULL REFERENCES {schema}.notices (notice_id),
    user_id    text NOT NULL,
    read_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (notice_id, user_id)
);
CREATE INDEX notice_reads_user ON {schema}.notice_reads (user_id);

GRANT SELECT, INSERT ON {schema}.notices TO {app_role};
GRANT SELECT, INSERT ON {schema}.notice_reads TO {app_role};
