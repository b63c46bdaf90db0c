#!/usr/bin/env bash
# Walk one request through all 14 steps of the SOP, as the demo users, through the gateway that
# `make run` starts. Needs bash, curl and python3 (for reading JSON); no jq.
#
#   docs/walkthrough.sh [BASE_URL]        (default http://127.0.0.1:8000)
#
# Every call is checked: an unexpected HTTP status, or a state other than the one the step should
# leave, stops the script with a non-zero exit status. See docs/walkthrough.md for the same walk
# explained step by step.
set -euo pipefail
shopt -s inherit_errexit  # a failure inside $(...) stops the script too

BASE="${1:-http://127.0.0.1:8000}"
BASE="${BASE%/}"
PASSWORD="${JEJAK_DEMO_PASSWORD:-rahasia-demo}"
TIMEOUT="${JEJAK_WAIT_SECONDS:-60}"

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

fail() {
  echo "GAGAL: $*" >&2
  exit 1
}

# jget JSON PATH: the value at a dotted PATH ("state.current_step", "missing_sections.0"), as
# text; objects, lists, numbers and null as JSON.
jget() {
  python3 -c '
import json, sys
value = json.loads(sys.argv[1])
for part in filter(None, sys.argv[2].split(".")):
    value = value[int(part)] if isinstance(value, list) else value[part]
print(value if isinstance(value, str) else json.dumps(value))
' "$1" "$2"
}

# call EXPECTED METHOD PATH TOKEN [curl options...]: the response body; fails unless the HTTP
# status is one of EXPECTED (e.g. "200" or "200 201"). The response headers go to $TMP/headers.
call() {
  local expected="$1" method="$2" path="$3" token="$4" status
  shift 4
  local auth=()
  if [ -n "$token" ]; then auth=(-H "Authorization: Bearer $token"); fi
  status="$(curl -sS -o "$TMP/body" -D "$TMP/headers" -w '%{http_code}' -X "$method" \
    "${auth[@]}" "$@" "$BASE$path")" || fail "$method $path: no answer from $BASE"
  case " $expected " in
    *" $status "*) cat "$TMP/body" ;;
    *) fail "$method $path -> HTTP $status (expected $expected): $(cat "$TMP/body")" ;;
  esac
}

# post TOKEN PATH JSON [EXPECTED]: POST a JSON body.
post() {
  call "${4:-200}" POST "$2" "$1" -H 'Content-Type: application/json' --data-binary "$3"
}

# get TOKEN PATH [EXPECTED]
get() {
  call "${3:-200}" GET "$2" "$1"
}

# expect JSON PATH VALUE: fail unless the value at PATH is VALUE.
expect() {
  local found
  found="$(jget "$1" "$2")"
  [ "$found" = "$3" ] || fail "expected $2 = $3, found $found"
}

# show JSON: print where the request stands, from a state or an accepted command's answer.
show() {
  python3 -c '
import json, sys
data = json.loads(sys.argv[1])
state = data.get("state", data)
print("      -> current_step=%s  who_must_act=%s" % (state["current_step"], state["who_must_act"]))
' "$1"
}

# until TOKEN SERVICE PATH VALUE: poll GET /api/SERVICE/requests/$RID until PATH shows VALUE (the
# services learn of each other's steps over Kafka, a moment later); prints the state.
until_shows() {
  local token="$1" service="$2" path="$3" value="$4" deadline state status
  deadline=$(($(date +%s) + TIMEOUT))
  while :; do
    status="$(curl -sS -o "$TMP/poll" -w '%{http_code}' -H "Authorization: Bearer $token" \
      "$BASE/api/$service/requests/$RID")" || status=000
    if [ "$status" = 200 ]; then
      state="$(cat "$TMP/poll")"
      if [ "$(jget "$state" "$path")" = "$value" ]; then
        echo "$state"
        return
      fi
    fi
    [ "$(date +%s)" -lt "$deadline" ] || fail "$service never showed $path = $value (HTTP $status)"
    sleep 0.5
  done
}

step() {
  echo
  echo "== $*"
}

login() {
  local body
  body="$(post "" /api/identity/login "{\"username\": \"$1\", \"password\": \"$PASSWORD\"}")"
  jget "$body" access_token
}

# Dates the walk uses: in Katingan's time zone (WIB), so that "today" is the services' today.
read -r TODAY STARTED TESTED END HELD_AT < <(python3 -c '
import datetime as dt
wib = dt.timezone(dt.timedelta(hours=7))
today = dt.datetime.now(wib).date()
start = today - dt.timedelta(days=20)
held = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=2)).isoformat()
print(today, start, today - dt.timedelta(days=1), start + dt.timedelta(days=45), held)
')
RUN="$(python3 -c 'import uuid; print(uuid.uuid4().hex[:8])')"

echo "Jejak walkthrough against $BASE"
get "" / >/dev/null

step "Masuk (login) sebagai pengguna demo"
PEMOHON="$(login pemohon.dinkes)"
KADIS="$(login kadis)"
KABID="$(login kabid.ti)"
LEAD="$(login dev.lead)"
ANGGOTA="$(login dev.anggota)"
AUDITOR="$(login auditor)"
ME="$(get "$PEMOHON" /api/identity/me)"
PEMOHON_ID="$(jget "$ME" user_id)"
PEMOHON_NAME="$(jget "$ME" full_name)"
ME="$(get "$KABID" /api/identity/me)"
KABID_ID="$(jget "$ME" user_id)"
KABID_NAME="$(jget "$ME" full_name)"
LEAD_ID="$(jget "$(get "$LEAD" /api/identity/me)" user_id)"
ANGGOTA_ID="$(jget "$(get "$ANGGOTA" /api/identity/me)" user_id)"
echo "   pemohon.dinkes=$PEMOHON_ID kabid.ti=$KABID_ID dev.lead=$LEAD_ID dev.anggota=$ANGGOTA_ID"

step "1  PEMOHON (pemohon.dinkes) uploads the request letter and submits the request"
printf '%%PDF-1.7 Surat Permohonan SIMPUS %s\n' "$RUN" >"$TMP/surat.pdf"
UPLOADED="$(call "200 201" POST /api/intake/attachments "$PEMOHON" \
  -H 'Content-Type: application/pdf' --data-binary @"$TMP/surat.pdf")"
echo "      uploaded: $UPLOADED"
SHA="$(jget "$UPLOADED" sha256)"
SIZE="$(jget "$UPLOADED" size_bytes)"
SUBMIT="$(cat <<JSON
{
  "title": "Sistem Informasi Puskesmas (SIMPUS)",
  "summary": "Pendaftaran pasien dan laporan kunjungan puskesmas.",
  "letter": {"number": "440/017/DINKES/$RUN", "date": "$TODAY"},
  "needs_analysis": {
    "background": "Pendataan kunjungan pasien masih di buku register.",
    "objectives": "Kunjungan tercatat sekali dan laporan bulanan otomatis.",
    "intended_users": ["Petugas pendaftaran", "Dokter"],
    "features": ["Registrasi pasien", "Laporan bulanan"],
    "platform": "Web, PostgreSQL"
  },
  "business_process": {
    "system_flow": "Petugas mendaftarkan pasien, dokter mencatat diagnosis.",
    "input_data": ["Identitas pasien (NIK)"],
    "output_data": ["Laporan kunjungan bulanan"],
    "validation_mechanism": "NIK 16 digit.",
    "forms_and_reporting": "Laporan bulanan ke Dinkes."
  },
  "attachments": [{"sha256": "$SHA", "size_bytes": $SIZE, "media_type": "application/pdf",
                   "filename": "surat-permohonan.pdf"}]
}
JSON
)"
KEY="walkthrough-$RUN"
ANSWER="$(call 201 POST /api/intake/requests "$PEMOHON" -H 'Content-Type: application/json' \
  -H "Idempotency-Key: $KEY" --data-binary "$SUBMIT")"
RID="$(jget "$ANSWER" request_id)"
echo "      request_id=$RID"
show "$ANSWER"
expect "$ANSWER" state.current_step RECEIVE
echo "      missing sections: $(jget "$ANSWER" state.missing_sections)"
RETRY="$(call 201 POST /api/intake/requests "$PEMOHON" -H 'Content-Type: application/json' \
  -H "Idempotency-Key: $KEY" --data-binary "$SUBMIT")"
grep -qi '^Idempotent-Replayed: true' "$TMP/headers" || fail "the retry was not a replay"
expect "$RETRY" request_id "$RID"
echo "      retried with the same Idempotency-Key: same request, nothing new appended"

step "2  KADIS (kadis) receives the request and its documents"
ANSWER="$(post "$KADIS" "/api/intake/requests/$RID/receive" '{"agenda_number": "AG/2025/0117"}')"
show "$ANSWER"
expect "$ANSWER" state.current_step DISPOSE
STATE="$(until_shows "$AUDITOR" approval status AWAITING_DISPOSITION)"
echo "      approval has opened it:"
show "$STATE"

step "3  KADIS dispositions it to the Head of the IT Division"
ANSWER="$(post "$KADIS" "/api/approval/requests/$RID/dispose" \
  '{"note": "Mohon diperiksa kelengkapannya.", "disposition_number": "005/117/2025"}')"
show "$ANSWER"
expect "$ANSWER" state.current_step VERIFY
echo "      sections KABID_TI sees missing:" \
  "$(python3 -c 'import json,sys; print([m["section"] for m in json.loads(sys.argv[1])["state"]["missing_sections"]])' "$ANSWER")"

step "4a KABID_TI (kabid.ti) returns it to the requester with reasons"
until_shows "$AUDITOR" intake current_step VERIFY >/dev/null
ANSWER="$(post "$KABID" "/api/approval/requests/$RID/return" \
  '{"reasons": ["Role pengguna, manajemen hak akses, user dan database belum diisi."]}')"
show "$ANSWER"
expect "$ANSWER" state.who_must_act PEMOHON
STATE="$(until_shows "$PEMOHON" intake status RETURNED)"
echo "      intake shows it RETURNED:"
show "$STATE"

step "4b PEMOHON revises the request (the business-process document completed)"
ANSWER="$(post "$PEMOHON" "/api/intake/requests/$RID/revise" '{
  "business_process": {
    "system_flow": "Petugas mendaftarkan pasien, dokter mencatat diagnosis.",
    "input_data": ["Identitas pasien (NIK)"],
    "output_data": ["Laporan kunjungan bulanan"],
    "validation_mechanism": "NIK 16 digit.",
    "user_roles": ["Petugas", "Dokter"],
    "forms_and_reporting": "Laporan bulanan ke Dinkes.",
    "access_rights_management": "Hak akses per peran.",
    "user_management": "Admin Dinkes membuat akun.",
    "database_management": "Backup harian."
  },
  "note": "Bagian yang kurang sudah dilengkapi."}')"
show "$ANSWER"
expect "$ANSWER" state.revisions 1
STATE="$(until_shows "$KABID" approval revisions 1)"
echo "      approval sees the revision:"
show "$STATE"
expect "$STATE" missing_sections "[]"

step "4c KABID_TI finds the documents complete"
ANSWER="$(post "$KABID" "/api/approval/requests/$RID/verify" \
  '{"acknowledged_missing": [], "note": "Lengkap."}')"
show "$ANSWER"
expect "$ANSWER" state.current_step MEETING

step "5  KABID_TI records the meeting (draft minutes)"
ANSWER="$(post "$KABID" "/api/approval/requests/$RID/meeting" "$(cat <<JSON
{
  "held_at": "$HELD_AT",
  "participants": [
    {"name": "$KABID_NAME", "position": "Kepala Bidang TI", "organisation": "DISKOMINFOSTANDI",
     "user_id": "$KABID_ID"},
    {"name": "$PEMOHON_NAME", "position": "Pemohon", "organisation": "DINKES",
     "user_id": "$PEMOHON_ID"}
  ],
  "scope": "Registrasi pasien dan laporan bulanan.",
  "timeline": {"planned_start": "$STARTED", "planned_end": "$END"},
  "minutes_number": "BA/117/$RUN"
}
JSON
)")"
show "$ANSWER"
expect "$ANSWER" state.current_step SIGN_MINUTES

step "6  KABID_TI records the minutes signed by KABID_TI and the requester"
ANSWER="$(post "$KABID" "/api/approval/requests/$RID/sign-minutes" "$(cat <<JSON
{"signatories": [
  {"user_id": "$KABID_ID", "name": "$KABID_NAME", "role": "KABID_TI"},
  {"user_id": "$PEMOHON_ID", "name": "$PEMOHON_NAME", "role": "PEMOHON"}
]}
JSON
)")"
show "$ANSWER"
expect "$ANSWER" state.current_step ASSIGN

step "7  KADIS issues the assignment letter to dev.lead (lead) and dev.anggota"
ANSWER="$(post "$KADIS" "/api/approval/requests/$RID/assign" "$(cat <<JSON
{"letter_number": "800/117/$RUN", "team_members": ["$LEAD_ID", "$ANGGOTA_ID"],
 "team_lead": "$LEAD_ID", "period_start": "$STARTED", "period_end": "$END"}
JSON
)")"
show "$ANSWER"
expect "$ANSWER" state.current_step DEVELOP
STATE="$(until_shows "$LEAD" dev_tracking current_step DEVELOP)"
echo "      dev_tracking has the request:"
show "$STATE"

DEV="/api/dev_tracking/requests/$RID"
step "8  The team builds it: start, progress, a problem and its solution"
ANSWER="$(post "$LEAD" "$DEV/start" "{\"started_on\": \"$STARTED\"}")"
show "$ANSWER"
ANSWER="$(post "$ANGGOTA" "$DEV/progress" '{"percent": 60, "note": "Registrasi selesai."}')"
show "$ANSWER"
ANSWER="$(post "$LEAD" "$DEV/problems" \
  '{"description": "Server uji belum tersedia.", "severity": "HIGH"}')"
PROBLEM="$(jget "$ANSWER" state.open_problems.0)"
echo "      problem $PROBLEM recorded"
ANSWER="$(post "$ANGGOTA" "$DEV/problems/$PROBLEM/solve" '{"solution": "Memakai VM pusat data."}')"
show "$ANSWER"
expect "$ANSWER" state.open_problems "[]"

# test_run TOKEN KIND RESULT MINUTES_NUMBER [FINDINGS_JSON]: record a test and its minutes.
test_run() {
  post "$1" "$DEV/tests" "{\"kind\": \"$2\", \"result\": \"$3\", \"minutes_number\": \"$4\",
    \"findings\": ${5:-[]}, \"tested_on\": \"$TESTED\"}"
}

step "9  System testing: FAILED, then re-run and PASSED"
ANSWER="$(test_run "$LEAD" SYSTEM FAILED BA-UJI/1 '["Login gagal untuk NIK berawalan 0"]')"
show "$ANSWER"
expect "$ANSWER" state.current_step SYSTEM_TEST
ANSWER="$(test_run "$LEAD" SYSTEM PASSED BA-UJI/2)"
show "$ANSWER"
expect "$ANSWER" state.current_step UNIT_TEST

step "10 Unit testing"
ANSWER="$(test_run "$ANGGOTA" UNIT PASSED BA-UJI/3)"
show "$ANSWER"
expect "$ANSWER" state.current_step INTEGRATION_TEST

step "11 Integration testing"
ANSWER="$(test_run "$LEAD" INTEGRATION PASSED BA-UJI/4)"
show "$ANSWER"
expect "$ANSWER" state.current_step MANUAL

step "12 The manual book"
printf '%%PDF-1.7 Buku Manual SIMPUS %s\n' "$RUN" >"$TMP/manual.pdf"
MANUAL_SHA="$(python3 -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$TMP/manual.pdf")"
MANUAL_SIZE="$(wc -c <"$TMP/manual.pdf" | tr -d ' ')"
ANSWER="$(post "$LEAD" "$DEV/manual" "$(cat <<JSON
{"title": "Buku Manual SIMPUS", "version": "1.0",
 "document": {"sha256": "$MANUAL_SHA", "size_bytes": $MANUAL_SIZE,
              "media_type": "application/pdf", "filename": "manual-simpus.pdf"}}
JSON
)")"
show "$ANSWER"
expect "$ANSWER" state.current_step UAT

step "13a UAT by the requester: REJECTED with findings (the team goes back)"
ANSWER="$(post "$PEMOHON" "$DEV/uat" '{"result": "REJECTED", "minutes_number": "BA-UAT/1",
  "findings": ["Laporan bulanan belum bisa diunduh sebagai Excel."]}')"
show "$ANSWER"
expect "$ANSWER" state.current_step DEVELOP
echo "      next test the team must run: $(jget "$ANSWER" state.next_test)"

step "13b The team fixes it and re-runs the integration test"
ANSWER="$(post "$ANGGOTA" "$DEV/progress" '{"percent": 100, "note": "Unduh Excel ditambahkan."}')"
show "$ANSWER"
ANSWER="$(test_run "$LEAD" INTEGRATION PASSED BA-UJI/5)"
show "$ANSWER"
expect "$ANSWER" state.current_step UAT

step "13c UAT by the requester: ACCEPTED"
ANSWER="$(post "$PEMOHON" "$DEV/uat" \
  '{"result": "ACCEPTED", "minutes_number": "BA-UAT/2", "notes": "Diterima."}')"
show "$ANSWER"

step "14 Done"
expect "$ANSWER" state.current_step DONE
expect "$ANSWER" state.who_must_act null
echo "      completed_on=$(jget "$ANSWER" state.completed_on)" \
  "accepted_by=$(jget "$ANSWER" state.accepted_by)"
echo
echo "Selesai: request $RID walked through all 14 steps."
