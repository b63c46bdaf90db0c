-- The directory keeps what documents print of a user: rank (pangkat/golongan) and position
-- (jabatan), from UserRegistered and UserProfileChanged. Users registered before take theirs
-- from their events.
-- Placeholders: {schema}, {app_role}.

ALTER TABLE {schema}.users ADD COLUMN rank text, ADD COLUMN position text;

UPDATE {schema}.users u SET
    full_name = e.payload->>'full_name',
    nip = e.payload->>'nip',
    rank = e.payload->>'rank',
    position = e.payload->>'position'
FROM (
    SELECT DISTINCT ON (stream_id) stream_id, payload FROM {schema}.events
    WHERE event_type IN ('UserRegistered', 'UserProfileChanged')
    ORDER BY stream_id, stream_version DESC
) e
WHERE e.stream_id = 'user-' || u.user_id;
