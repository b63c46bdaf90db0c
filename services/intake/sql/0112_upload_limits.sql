-- Attachments grant nothing by digest alone, and uploads have limits (issue 17, items 4 and 8;
-- services/intake/attachments.py, quota.py, orphans.py).

-- The last time anybody uploaded the bytes: an attachment no request references is removed some
-- days after it (orphans.py). An upload of stored bytes moves it forward, under the row's lock.
ALTER TABLE {schema}.attachments ADD COLUMN last_uploaded_at timestamptz;
UPDATE {schema}.attachments a SET last_uploaded_at = coalesce(
    (SELECT max(u.uploaded_at) FROM {schema}.attachment_uploads u WHERE u.sha256 = a.sha256),
    a.uploaded_at);
ALTER TABLE {schema}.attachments ALTER COLUMN last_uploaded_at SET NOT NULL,
    ALTER COLUMN last_uploaded_at SET DEFAULT now();
CREATE INDEX attachments_last_uploaded ON {schema}.attachments (last_uploaded_at);

-- The media type each uploader gave: an upload is answered with the caller's own, never with
-- another uploader's (which would tell that the bytes were stored before).
ALTER TABLE {schema}.attachment_uploads ADD COLUMN media_type text;
UPDATE {schema}.attachment_uploads u SET media_type = a.media_type
    FROM {schema}.attachments a WHERE a.sha256 = u.sha256;
ALTER TABLE {schema}.attachment_uploads ALTER COLUMN media_type SET NOT NULL;

-- A reference grants the request's OPD the right to read only if the bytes were proven
-- (uploaded by the submitter, or already granted to its OPD). An e-office letter's attachments
-- are metadata whose bytes intake never received: the references letters recorded before this
-- migration are forgotten, and so is every reference to bytes that were never stored.
DELETE FROM {schema}.request_attachments ra USING {schema}.eoffice_letters l
    WHERE ra.request_id = l.request_id
    AND ra.sha256 IN (SELECT x ->> 'sha256' FROM jsonb_array_elements(l.letter -> 'attachments') x);
DELETE FROM {schema}.request_attachments ra
    WHERE NOT EXISTS (SELECT 1 FROM {schema}.attachments a WHERE a.sha256 = ra.sha256);
ALTER TABLE {schema}.request_attachments
    ADD CONSTRAINT request_attachments_stored FOREIGN KEY (sha256) REFERENCES {schema}.attachments;

-- Every accepted upload, for the per-user daily quotas (quota.py); rows older than the quota's
-- window are deleted by the orphan sweep.
CREATE TABLE {schema}.upload_ledger (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      text NOT NULL,
    size_bytes   bigint NOT NULL CHECK (size_bytes >= 1),
    uploaded_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX upload_ledger_user ON {schema}.upload_ledger (user_id, uploaded_at);
CREATE INDEX upload_ledger_time ON {schema}.upload_ledger (uploaded_at);

GRANT UPDATE (last_uploaded_at), DELETE ON {schema}.attachments TO {app_role};
GRANT UPDATE (uploaded_at, media_type), DELETE ON {schema}.attachment_uploads TO {app_role};
GRANT SELECT, INSERT, DELETE ON {schema}.upload_ledger TO {app_role};
