"""identity: OPDs, users, roles and delegations; login and signed tokens."""
