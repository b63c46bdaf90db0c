-- What identity granted and took away, as far as the notification stream needs it
-- (services/reporting/grants.py): an open stream serves the roles and delegations of its token
-- and stops serving one that identity took away after the token was issued.
-- Placeholders: {schema}, {app_role}.

-- The latest RoleGranted or RoleRevoked of each role of each user (version: its place in the
-- user's stream, so an older change never overwrites a newer one).
CREATE TABLE {schema}.role_changes (
    user_id     text NOT NULL,
    role        text NOT NULL,
    held        boolean NOT NULL,
    changed_at  timestamptz NOT NULL,
    version     integer NOT NULL,
    PRIMARY KEY (user_id, role)
);

-- Every Plt/Plh delegation, with when it was ended early (DelegationEnded), if it was.
CREATE TABLE {schema}.delegations (
    delegation_id     text PRIMARY KEY,
    delegate_user_id  text NOT NULL,
    official_user_id  text NOT NULL,
    role              text NOT NULL,
    kind              text NOT NULL,
    valid_from        timestamptz NOT NULL,
    valid_until       timestamptz NOT NULL,
    ended_at          timestamptz
);
CREATE INDEX delegations_delegate ON {schema}.delegations (delegate_user_id);

GRANT SELECT, INSERT, UPDATE ON {schema}.role_changes TO {app_role};
GRANT SELECT, INSERT, UPDATE ON {schema}.delegations TO {app_role};
