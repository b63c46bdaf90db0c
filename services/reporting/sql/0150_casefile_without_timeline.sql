-- cases.casefile leaves out the timeline (projector.STORED_CASE_EXCLUDES): it is case_events over
-- again, and the audit timeline is folded from case_events like the other audit views. Rows
-- written before keep theirs until their request's next event; strip it now, so a replay
-- compares equal with every row.
UPDATE {schema}.cases SET casefile = (casefile::jsonb - 'timeline')::json
WHERE casefile::jsonb ? 'timeline';
