-- Who held which role, and who acted for whom, as identity's events say
-- (services/approval/officials.py): the e-office names the official of a disposition, and
-- approval checks that this user held KADIS, or acted for one as Plt/Plh, at its disposed_at.
-- Written by the consumer of jejak.identity.events, in the transaction that records the event.

-- Every RoleGranted (held) and RoleRevoked, kept: a role at any past instant is the last change
-- until then (version: its place in the user's stream, orders the changes of one instant).
CREATE TABLE {schema}.role_changes (
    event_id    uuid PRIMARY KEY,
    tenant      text NOT NULL,
    user_id     text NOT NULL,
    role        text NOT NULL,
    held        boolean NOT NULL,
    changed_at  timestamptz NOT NULL,
    version     integer NOT NULL
);
CREATE INDEX role_changes_user ON {schema}.role_changes (tenant, user_id, role);

-- Every Plt/Plh delegation (its DelegationGranted, as identity published it), with when it was
-- ended early (DelegationEnded), if it was.
CREATE TABLE {schema}.delegations (
    delegation_id     text PRIMARY KEY,
    tenant            text NOT NULL,
    delegate_user_id  text NOT NULL,
    role              text NOT NULL,
    granted           jsonb NOT NULL,
    ended_at          timestamptz
);
CREATE INDEX delegations_delegate ON {schema}.delegations (tenant, delegate_user_id, role);

GRANT SELECT, INSERT ON {schema}.role_changes TO {app_role};
GRANT SELECT, INSERT, UPDATE ON {schema}.delegations TO {app_role};
