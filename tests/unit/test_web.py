"""The web app's pure parts: how it writes dates and durations, reads forms, builds command
bodies, reads the services' refusals and guards where a login may lead."""

import datetime as dt

from starlette.datastructures import FormData

from infra.auth import TokenIssuer, TokenVerifier, generate_key_pair
from infra.principal import Principal
from services.web.backend import query, refusal_of
from services.web.commands import BY_NAME, FormContext
from services.web.formatting import (
    day,
    from_local_input,
    instant,
    month_name,
    number,
    working_time,
)
from services.web.forms import errors_by_field, field_of, lines
from services.web.pages.reports import month_of
from services.web.renewal import needs_renewal, with_cookie
from services.web.session import Sessions, safe_next


def test_dates_and_numbers_as_the_office_writes_them() -> None:
    at = dt.datetime(2026, 12, 7, 2, 30, tzinfo=dt.UTC)
    assert instant(at) == "Senin, 7 Desember 2026 09.30 WIB"
    assert (
        instant("2026-12-07T02:30:15+00:00", seconds=True) == "Senin, 7 Desember 2026 09.30.15 WIB"
    )
    assert instant(None) == ""
    assert day("2026-08-17") == "17 Agustus 2026"
    assert number(1234.5) == "1.234,5"
    local = from_local_input("2026-12-07T09:30")
    assert local.astimezone(dt.UTC) == at


def test_a_month_of_the_sla_report() -> None:
    today = dt.date(2026, 12, 7)
    assert month_of("2026-12", "Asia/Jakarta", today) == (
        "2026-12-01T00:00:00+07:00",
        "2027-01-01T00:00:00+07:00",
        True,
    )
    twelve_months = ("2026-01-01T00:00:00+07:00", "2027-01-01T00:00:00+07:00", False)
    assert month_of("2026-13", "Asia/Jakarta", today) == twelve_months
    assert month_of("", "Asia/Jakarta", today) == twelve_months
    assert month_of("", "Asia/Jakarta", dt.date(2026, 3, 31))[:2] == (
        "2025-04-01T00:00:00+07:00",
        "2026-04-01T00:00:00+07:00",
    )
    assert month_name("2026-02-01") == "Februari 2026"


def test_working_time_in_days_and_hours() -> None:
    assert working_time(2 * 480 + 3 * 60) == "2 hari kerja 3 jam"
    assert working_time(45) == "45 menit"
    assert working_time(480) == "1 hari kerja"
    assert working_time(0) == "kurang dari 1 menit"


def test_a_refusal_is_placed_beside_its_field() -> None:
    assert field_of("participants.0.name") == "participants"
    assert field_of("findings.2") == "findings"
    assert field_of("timeline.planned_start") == "timeline.planned_start"
    domain = refusal_of(409, {"message": "Isi nomor agenda.", "field": "agenda_number"})
    assert (domain.status, domain.fields) == (409, {"agenda_number": "Isi nomor agenda."})
    invalid = refusal_of(
        422,
        {
            "message": "Input tidak valid",
            "errors": [{"field": "body.participants.1.name", "message": "Isi nama."}],
        },
    )
    assert errors_by_field(invalid.fields) == {"participants": "Isi nama."}
    assert refusal_of(500, "not json").message == "Permintaan ditolak."


def test_command_bodies_from_forms() -> None:
    form = FormData(
        [
            ("instructions", "Untuk ditindaklanjuti"),
            ("instructions", "Koordinasikan"),
            ("urgency", "Segera"),
            ("classification", "Biasa"),
            ("respond_by", "2026-12-09"),
            ("note", "  Mohon diperiksa.  "),
            ("disposition_number", ""),
        ]
    )
    body = BY_NAME["Dispose"].body(form, FormContext())
    assert body == {
        "to_role": "KABID_TI",
        "instructions": ["Untuk ditindaklanjuti", "Koordinasikan"],
        "urgency": "Segera",
        "classification": "Biasa",
        "respond_by": "2026-12-09",
        "note": "Mohon diperiksa.",
        "disposition_number": None,
    }
    users = {
        "u-1": {
            "user_id": "u-1",
            "full_name": "Rudi",
            "opd": "DISKOMINFOSTANDI",
            "roles": ["KABID_TI"],
        }
    }
    meeting = FormData(
        [
            ("participants", "u-1"),
            ("participants", "u-unknown"),
            ("guests", "Budi; Camat; Kecamatan Katingan Hilir\n\n"),
            ("held_at", "2026-12-07T09:00"),
        ]
    )
    body = BY_NAME["RecordMeeting"].body(meeting, FormContext(users=users))
    assert body["participants"] == [
        {
            "name": "Rudi",
            "position": "Kepala Bidang TI",
            "organisation": "DISKOMINFOSTANDI",
            "user_id": "u-1",
        },
        {"name": "Budi", "position": "Camat", "organisation": "Kecamatan Katingan Hilir"},
    ]
    assert body["held_at"] == "2026-12-07T09:00:00+07:00"
    assert lines(FormData([("findings", " a \n\n b ")]), "findings") == ["a", "b"]


def test_a_login_leads_only_to_a_page_of_this_site() -> None:
    assert safe_next("/permohonan?status=OPEN") == "/permohonan?status=OPEN"
    for elsewhere in ("https://jahat.example/", "//jahat.example", "/\\jahat", "", None):
        assert safe_next(elsewhere) == "/"


def test_csrf_tokens_are_bound_to_their_session() -> None:
    _, public = generate_key_pair()
    sessions = Sessions(TokenVerifier(public), b"rahasia", secure=True)
    assert sessions.csrf_for("sesi-a") == sessions.csrf_for("sesi-a")
    assert sessions.csrf_for("sesi-a") != sessions.csrf_for("sesi-b")
    other = Sessions(TokenVerifier(public), b"rahasia-lain", secure=True)
    assert other.csrf_for("sesi-a") != sessions.csrf_for("sesi-a")


def test_query_parameters_repeat_a_list_and_leave_out_the_empty() -> None:
    params = {"responsible_role": ["KADIS", "KABID_TI"], "opd": None, "text": "", "limit": 500}
    assert query(params | {"timeline": True}) == [
        ("responsible_role", "KADIS"),
        ("responsible_role", "KABID_TI"),
        ("limit", "500"),
        ("timeline", "true"),
    ]
    assert query(None) == []


def test_an_access_token_is_renewed_when_absent_unreadable_or_about_to_expire() -> None:
    private, _ = generate_key_pair()
    now = dt.datetime(2024, 3, 4, 8, 0, tzinfo=dt.UTC)
    user = Principal("u-1", "Satu", frozenset({"KADIS"}))
    token = TokenIssuer(private).issue(user, now)  # lives 15 minutes
    assert not needs_renewal(token, now)
    assert not needs_renewal(token, now + dt.timedelta(minutes=12))
    assert needs_renewal(token, now + dt.timedelta(minutes=13))
    for broken in (None, "", "bukan.token.sah"):
        assert needs_renewal(broken, now)


def test_a_renewed_token_replaces_only_the_session_cookie() -> None:
    scope = {"type": "http", "headers": [(b"cookie", b"jejak_sesi=old; jejak_segar=r; x=1")]}
    renewed = with_cookie(scope, "jejak_sesi", "new")
    [cookie] = [v for k, v in renewed["headers"] if k == b"cookie"]
    assert sorted(cookie.decode().split("; ")) == ["jejak_segar=r", "jejak_sesi=new", "x=1"]
