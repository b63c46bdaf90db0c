-- sla_rows keeps each value of a row in its own column instead of a JSON copy of the whole row
-- (projector.sla_row_values writes them, projector.stored_sla_row reads them back; the step's
-- labels come from the SOP's catalogue). Rows written before are converted in place.
-- Placeholders: {schema}, {app_role}.

ALTER TABLE {schema}.sla_rows
    ADD COLUMN standard_minutes integer,
    ADD COLUMN ended_by text,
    ADD COLUMN used_minutes integer,
    ADD COLUMN paused_minutes integer,
    ADD COLUMN failed_runs integer,
    ADD COLUMN pauses json;

UPDATE {schema}.sla_rows SET
    standard_minutes = (row->>'standard_minutes')::integer,
    ended_by = row->>'ended_by',
    used_minutes = (row->>'used_minutes')::integer,
    paused_minutes = (row->>'paused_minutes')::integer,
    failed_runs = (row->>'failed_runs')::integer,
    pauses = row->'pauses';

ALTER TABLE {schema}.sla_rows
    ALTER COLUMN standard_minutes SET NOT NULL,
    ALTER COLUMN used_minutes SET NOT NULL,
    ALTER COLUMN paused_minutes SET NOT NULL,
    ALTER COLUMN failed_runs SET NOT NULL,
    ALTER COLUMN pauses SET NOT NULL,
    DROP COLUMN row;
