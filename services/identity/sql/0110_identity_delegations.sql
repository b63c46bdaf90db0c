-- Delegations (Plt/Plh) as their events say, updated in the same transaction as each append.
-- A delegation is in force at t when valid_from <= t < valid_until and it was not ended by t.
CREATE TABLE {schema}.delegations (
    delegation_id     text PRIMARY KEY,
    delegate_user_id  text NOT NULL,
    official_user_id  text NOT NULL,
    role              text NOT NULL,
    kind              text NOT NULL,
    valid_from        timestamptz NOT NULL,
    valid_until       timestamptz NOT NULL,
    reason            text NOT NULL,
    granted_by        text NOT NULL,
    granted_at        timestamptz NOT NULL,
    ended_at          timestamptz,
    ended_by          text,
    end_reason        text,
    CHECK (valid_until > valid_from)
);
CREATE INDEX delegations_delegate ON {schema}.delegations (delegate_user_id, valid_until);
CREATE INDEX delegations_official ON {schema}.delegations (official_user_id, role, valid_until);

GRANT SELECT, INSERT, UPDATE ON {schema}.delegations TO {app_role};
