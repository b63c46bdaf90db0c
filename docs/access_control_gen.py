"""Generate ``docs/access-control.md``: the access-control policy (``events.policy``) as one table
per service, with how callers are authenticated, acting officials, token lifetimes, the login
lockout and what production refuses, each figure read from the code that enforces it.

    .venv/bin/python docs/access_control_gen.py          # write it
    .venv/bin/python docs/access_control_gen.py --check  # exit 1 if the committed one is stale

``tests/unit/test_access_control_doc.py`` runs the check, so the page never drifts from the code.
"""

import argparse
import inspect
import re
import sys
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import get_args

from events import policy
from events.identity import GrantableRole, OfficialRole
from events.steps import step
from events.topics import SERVICES, Service
from infra import webhook
from infra.auth import TokenIssuer
from infra.settings import DEFAULT_APP_DB_PASSWORD, Settings
from services.identity import bootstrap as identity_bootstrap
from services.identity import domain as identity

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "access-control.md"
COMMAND = ".venv/bin/python docs/access_control_gen.py"
WEBHOOK_RECEIVERS = {r.service for r in policy.POLICY if r.authentication == "WEBHOOK"}

SCOPE_CELLS: dict[policy.Scope, str] = {
    "ANY": "any OPD",
    "OWN_OPD": "own OPD",
    "TEAM": "own team",
    "SELF": "own",
    "NONE": "yes",
}
AUTHENTICATION: dict[policy.Authentication, str] = {
    "BEARER": "bearer token",
    "SESSION": "bearer token of an open session, any role",
    "WEBHOOK": "HMAC-SHA256 webhook signature, no bearer token",
    "PUBLIC": "none",
}


def _code(path: str) -> str:
    """A link to a file of the repository, relative to ``docs/``."""
    return f"[`{path}`](../{path})"


def _span(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{seconds} seconds"


def _markdown(text: str) -> str:
    """The docstring's reStructuredText literals as Markdown ones."""
    return re.sub(r"``([^`]+)``", r"`\1`", text)


def _cell(rule: policy.Rule, role: GrantableRole) -> str:
    grant = rule.grant_of(role)
    if grant is None:
        return "–"
    text = SCOPE_CELLS[grant.scope]
    responsible = rule.kind == "command" and grant.role is not None and rule.roles[0] == role
    return f"**{text}**" if responsible and rule.steps else text


def _steps(rule: policy.Rule) -> str:
    return ", ".join(str(step(code).number) for code in rule.steps)


def _notes(rule: policy.Rule) -> str:
    notes = []
    if any(g.role is None for g in rule.grants):
        notes.append("Any signed-in user, with or without a role.")
    if rule.hides_out_of_scope:
        notes.append("Out of scope is answered 404.")
    if rule.note:
        notes.append(rule.note)
    return " ".join(notes)


def _table(service: Service) -> Iterator[str]:
    yield f"### {service}"
    yield ""
    yield "| route | command or query | step | " + " | ".join(policy.ROLES) + " | notes |"
    yield "|---|---|---|" + "---|" * len(policy.ROLES) + "---|"
    for rule in policy.rules_of(service):
        if rule.authentication != "BEARER":
            continue
        cells = " | ".join(_cell(rule, role) for role in policy.ROLES)
        yield (
            f"| `{rule.method} {rule.path}` | {rule.name} ({rule.kind}) | {_steps(rule)} | "
            f"{cells} | {_notes(rule)} |"
        )
    yield ""


def _unchecked() -> Iterator[str]:
    yield "| service | route | command or query | step | authentication | notes |"
    yield "|---|---|---|---|---|---|"
    for rule in policy.POLICY:
        if rule.authentication == "BEARER":
            continue
        yield (
            f"| {rule.service} | `{rule.method} {rule.path}` | {rule.name} ({rule.kind}) | "
            f"{_steps(rule)} | {AUTHENTICATION[rule.authentication]} | {rule.note} |"
        )


def _docstring_section(title: str) -> str:
    """The part of ``events.policy``'s docstring from the paragraph starting ``**title**`` (or the
    ``title`` heading) to the next."""
    doc = inspect.cleandoc(policy.__doc__ or "")
    if title == "Decisions":
        section = doc.split("Decisions\n---------\n", 1)[1]
        return _markdown(section.strip())
    for paragraph in doc.split("\n\n"):
        if paragraph.startswith(f"**{title}.**"):
            return _markdown(paragraph.replace("\n", " "))
    raise LookupError(title)


def _production_refusals() -> dict[str, list[str]]:
    """What a production start with nothing configured is refused for, as the code says it, and
    by which services."""
    bare = Settings(
        environment="production",
        jwt_key_dir=str(ROOT / "no-such-dir"),
        jwt_private_key=None,
        jwt_public_key=None,
        app_db_password=DEFAULT_APP_DB_PASSWORD,
        eoffice_secret=None,
    )
    refusals: dict[str, list[str]] = {}
    for service in SERVICES:
        if service == "identity":
            problems = identity_bootstrap.production_problems(bare, seed_demo=True)
        else:
            problems = bare.production_problems()
        if service in WEBHOOK_RECEIVERS:
            try:
                webhook.secrets_from(bare)
            except webhook.MissingSecret as missing:
                problems.append(str(missing))
        for problem in problems:
            refusals.setdefault(problem, []).append(service)
    return refusals


def _owner_refusals() -> list[str]:
    """What a service (intake, say) given the owner's connection is refused for."""
    owner = "postgresql://jejak_owner:secret@db:5432/jejak"
    given = Settings(
        environment="production",
        service_name="intake",
        database_url=owner,
        database_app_url=owner,
    )
    return given.database_owner_problems()


def render() -> str:
    """The page, from the policy and the code."""
    tokens = identity.TokenPolicy()
    login = identity.LoginPolicy()
    ttl = TokenIssuer("").ttl
    skew = Settings.model_fields["eoffice_max_skew_seconds"].default
    lines = [
        f"<!-- Generated by `{COMMAND}` from `events/policy.py`: do not edit by hand. "
        "tests/unit/test_access_control_doc.py fails when this page and the code disagree. -->",
        "",
        "# Access control",
        "",
        f"Generated by `{COMMAND}` from the one declared policy, {_code('events/policy.py')}. "
        "Every service enforces that policy through "
        f"{_code('infra/access.py')} and nothing else decides who may do what; "
        f"{_code('tests/services/test_access_matrix.py')} tries every route below in every role "
        "(a requester of another OPD, a developer outside the team and a Plt/Plh inside and "
        "outside its window included) against the running services, and "
        f"{_code('tests/unit/test_policy.py')} fails when a service has a route the policy does "
        "not declare.",
        "",
        "## The order of the checks",
        "",
        "1. **Authentication**: a missing, forged or expired token is 401 (the e-office webhooks: "
        "a bad signature or timestamp is 401, a replay 409).",
        "2. **Role**: the caller holds one of the rule's roles, its own or as Plt/Plh; else 403, "
        "before anything is looked up (a refused caller learns nothing, not even whether the "
        "request exists).",
        "3. **Existence**: 404 naming the field.",
        "4. **Scope** (the cell's words below): else 403, or 404 where the notes say so.",
        "5. **Step**: 409 naming the current step; then the command's own rules, 422 naming the "
        "field.",
        "",
        "Nothing is appended, stored or sent on any refusal.",
        "",
        "## Who may do what",
        "",
        "A cell is the scope of the role's right: **any OPD** (every request, or every user "
        "record), **own OPD** (the requests of the caller's own OPD), **own team** (the requests "
        "whose latest Surat Tugas names the caller), **own** (what is the caller's own), **yes** "
        "(the rule is about no OPD's data), **–** (refused: 403). A bold cell is the role a step's "
        "command is exercised in by default: the step's responsible role (`events/steps.py`). "
        "Paths are the services' own; behind the gateway each is under `/api/<service>`.",
        "",
        _docstring_section("Scopes"),
        "",
    ]
    for service in SERVICES:
        lines += list(_table(service))
    lines += [
        "### Routes without a role check",
        "",
        *_unchecked(),
        "",
        f"The e-office webhook contract is {_code('docs/eoffice-webhook.md')}: HMAC-SHA256 with "
        f"the tenant's secret over the timestamp and the body, a timestamp within ±{skew} seconds "
        "(`EOFFICE_MAX_SKEW_SECONDS`), and every signature accepted once "
        f"({_code('infra/webhook.py')}).",
        "",
        "## Decisions",
        "",
        _docstring_section("Decisions"),
        "",
        "## Acting officials (Plt/Plh)",
        "",
        "An ADMIN grants a user one role of an absent official (only "
        f"{' or '.join(get_args(OfficialRole))}) for a window of at most "
        f"{_span(identity.MAX_DELEGATION)}, with a reason (`POST /api/identity/delegations`, "
        f"{_code('services/identity/domain.py')}). A token identity issues inside the window "
        "carries the delegation; `Principal.has_role` counts it "
        f"({_code('infra/principal.py')}), so the delegate passes exactly the checks above that "
        "the official would, and the event's actor names both (`on_behalf_of`, shown as Plt. or "
        "Plh. on the timeline). A token that carries a delegation lives at most "
        f"{_span(tokens.delegated_ttl)} and never past the window's end, so a delegation ended "
        "early stops within that time; outside the window the token carries none, and the "
        "delegate is only itself.",
        "",
        "## Tokens",
        "",
        f"identity signs tokens with its Ed25519 key ({_code('infra/auth.py')}); every service "
        "verifies them locally with the public key, issuer and times included, and answers 401 "
        f"to an expired one. An access token lives {_span(ttl)} (`ACCESS_TOKEN_MINUTES`), so a "
        "revoked role or an ended delegation stops working within that time. Login also gives a "
        "refresh token, which names only the user and the session and which only "
        "`POST /api/identity/token/refresh` accepts (every service refuses it as an access "
        "token); a refresh gives a new access token with the roles and delegations held now, "
        f"until {_span(tokens.max_session)} after the password was entered, when the user must "
        f"log in again (`TokenPolicy` in {_code('services/identity/domain.py')}). The web app "
        "keeps the refresh token in a second HttpOnly cookie and renews the access token "
        "before it expires.",
        "",
        "## Login lockout",
        "",
        f"`LoginPolicy` in {_code('services/identity/domain.py')}: "
        f"{login.per_user.max_failures} failed logins in a row for one username (within "
        f"{_span(login.per_user.window or timedelta(0))}) lock it for "
        f"{_span(login.per_user.lockout)} (`LOGIN_LOCKOUT_MINUTES`), and each further lock "
        "twice as long as the one before, up to "
        f"{_span(login.per_user.max_lockout or login.per_user.lockout)} "
        "(`LOGIN_LOCKOUT_MAX_MINUTES`), until a successful login, an ADMIN's unlock "
        "(`POST /users/{user_id}/unlock`, recorded as `LoginUnlocked`) or "
        f"{_span(login.forget_after)} without failures after the last lock; "
        f"{login.per_address.max_failures} failures from one "
        f"client address within {_span(login.per_address.window or timedelta(0))} hold back "
        f"every login from it for {_span(login.per_address.lockout)}. A locked login is 429 with "
        "`Retry-After`, checked before the password, and the answer never says whether the "
        "username exists. The web app, which calls `/login` for every browser, names the "
        "browser's address in `X-Forwarded-For`, which identity believes only from the "
        "addresses in `FORWARDED_ALLOW_IPS` (the gateway's and the web app's).",
        "",
        "## Production checks",
        "",
        "`ENVIRONMENT` has no default: a process without it refuses to start "
        "(`EnvironmentNotSet`); `make run`, the tests and the benchmarks set `development`. "
        "With `ENVIRONMENT=production` a service refuses to start (`ProductionConfigError`) "
        f"unless its secrets come from the environment ({_code('infra/settings.py')}, "
        f"{_code('services/identity/bootstrap.py')}, {_code('infra/webhook.py')}). Started with "
        "nothing configured, each names every problem it finds:",
        "",
        *[
            f"- {problem} ({', '.join(services)})"
            for problem, services in _production_refusals().items()
        ],
        "",
        "identity also refuses to start while a demo account still has the demo password, and "
        "a JWT_PRIVATE_KEY and JWT_PUBLIC_KEY that are not one key pair; intake, approval and "
        f"eoffice refuse an EOFFICE_SECRET shorter than {webhook.MIN_SECRET_LENGTH} characters "
        "or equal to the public development one, and the same of a secret in "
        f"EOFFICE_PREVIOUS_SECRETS (at most {webhook.MAX_PREVIOUS_SECRETS}); eoffice refuses an "
        "EOFFICE_CALLBACK_URL that is not https. A key equal to the development key kept in "
        "JWT_KEY_DIR counts as missing.",
        "",
        "No service holds the database owner's password (the migrations run apart, "
        "`python -m infra.migrate_all`, before the services start; `docs/security.md`). "
        "Given an owner's connection, a service refuses to start in production; intake, for "
        "example, says:",
        "",
        *[f"- {problem}" for problem in _owner_refusals()],
        "",
    ]
    return "\n".join(lines)


def stale() -> bool:
    return not PAGE.exists() or PAGE.read_text() != render()


def main(argv: list[str] | None = None, write: Callable[[str], object] = print) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report a stale page")
    if parser.parse_args(argv).check:
        if stale():
            print(f"stale: {PAGE.relative_to(ROOT)}; run {COMMAND}", file=sys.stderr)
            return 1
        return 0
    if stale():
        PAGE.write_text(render())
        write(f"wrote {PAGE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
