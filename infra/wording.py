"""The Indonesian words refusals are made of: roles, steps, fields, and the sentence for each kind
of input that breaks a model's rules (pydantic's error types), saying what to do where it can.
Pure; ``infra.http`` turns a validation error into these sentences, and the domains name roles
and steps with them (``docs``: the words are UI.md's)."""

from collections.abc import Mapping
from typing import Any

from events.envelope import Role
from events.fields import FREE_TEXT, NIP_PATTERN, ONE_LINE, VISIBLE_ASCII
from events.steps import TEST_STEP, step

ROLE_LABELS: Mapping[Role, str] = {
    "PEMOHON": "pemohon",
    "KADIS": "Kepala Dinas",
    "KABID_TI": "Kepala Bidang TI",
    "TIM_PENGEMBANG": "tim pengembang",
    "ADMIN": "admin",
    "AUDITOR": "Inspektorat",
    "SYSTEM": "sistem",
}

TEST_LABELS: Mapping[str, str] = {kind: step(code).name_id for kind, code in TEST_STEP.items()}


def at_step(code: str) -> str:
    """``langkah 4 (Membaca disposisi dan memeriksa kelengkapan dokumen)``."""
    here = step(code)
    return f"langkah {here.number} ({here.label_id})"


FIELD_LABELS: Mapping[str, str] = {
    "acknowledged_missing": "bagian yang diterima kosong",
    "agenda_number": "nomor agenda",
    "attachments": "lampiran",
    "business_process": "dokumen proses bisnis",
    "code": "kode",
    "date": "tanggal",
    "description": "uraian masalah",
    "disposition_number": "nomor disposisi",
    "document": "berkas",
    "filename": "nama berkas",
    "findings": "temuan",
    "full_name": "nama lengkap",
    "instructions": "instruksi disposisi",
    "classification": "klasifikasi",
    "nip": "NIP",
    "rank": "pangkat/golongan",
    "respond_by": "batas waktu",
    "urgency": "sifat",
    "held_at": "waktu rapat",
    "kind": "jenis uji",
    "letter": "surat permohonan",
    "letter_number": "nomor Surat Tugas",
    "media_type": "jenis berkas",
    "minutes_number": "nomor Berita Acara",
    "name": "nama",
    "needs_analysis": "formulir Analisis Kebutuhan",
    "note": "catatan",
    "notes": "catatan",
    "number": "nomor surat",
    "opd": "OPD",
    "organisation": "instansi",
    "participants": "peserta rapat",
    "password": "kata sandi",
    "percent": "persentase kemajuan",
    "period_end": "akhir masa tugas",
    "period_start": "awal masa tugas",
    "planned_end": "rencana selesai",
    "planned_start": "rencana mulai",
    "position": "jabatan",
    "reason": "alasan",
    "reasons": "alasan",
    "result": "hasil",
    "role": "peran",
    "roles": "peran",
    "scope": "lingkup",
    "severity": "tingkat keparahan",
    "signatories": "penandatangan",
    "size_bytes": "ukuran berkas",
    "solution": "solusi",
    "started_on": "tanggal mulai",
    "summary": "ringkasan",
    "team_lead": "ketua tim",
    "team_members": "anggota tim",
    "tested_on": "tanggal uji",
    "timeline": "jadwal",
    "title": "judul",
    "to_role": "tujuan disposisi",
    "problem_id": "id masalah",
    "request_id": "id permohonan",
    "sha256": "sidik sha256 berkas",
    "user_id": "id pengguna",
    "username": "nama pengguna",
    "valid_from": "awal masa tugas",
    "valid_until": "akhir masa tugas",
    "version": "versi",
}
"""Names people read for the fields most forms show; any other field is named as it is."""

_LOCATIONS = frozenset({"body", "query", "path", "header", "cookie"})

_DAY = "format TTTT-BB-HH, mis. 2025-01-31"
_INSTANT = "format ISO 8601 beserta zona waktu, mis. 2025-01-31T09:30:00+07:00"

_KINDS: Mapping[str, str] = {
    "string_type": "teks",
    "int_type": "bilangan bulat",
    "int_parsing": "bilangan bulat",
    "int_from_float": "bilangan bulat",
    "float_type": "bilangan",
    "float_parsing": "bilangan",
    "bool_type": "true atau false",
    "bool_parsing": "true atau false",
    "list_type": "daftar",
    "tuple_type": "daftar",
    "set_type": "daftar",
    "frozen_set_type": "daftar",
    "dict_type": "objek JSON",
    "model_type": "objek JSON",
    "model_attributes_type": "objek JSON",
    "uuid_type": "UUID",
    "uuid_parsing": "UUID",
    "date_type": _DAY,
    "date_parsing": _DAY,
    "date_from_datetime_parsing": _DAY,
    "date_from_datetime_inexact": _DAY,
    "datetime_type": _INSTANT,
    "datetime_parsing": _INSTANT,
    "datetime_from_date_parsing": _INSTANT,
    "url_type": "URL",
    "url_parsing": "URL",
}
"""What to fill a field with, for each "wrong type" error."""

_PATTERNS: Mapping[str, str] = {
    ONE_LINE: "harus satu baris, tanpa spasi di awal atau akhir dan tanpa karakter kendali",
    FREE_TEXT: "tidak boleh kosong atau memuat karakter kendali",
    VISIBLE_ASCII: "hanya boleh berisi karakter ASCII yang tampak, tanpa spasi",
    NIP_PATTERN: "harus 18 angka",
}


def field_path(location: tuple[Any, ...]) -> str:
    """The field at fault as the answers name it: ``body.letter.date``."""
    return ".".join(str(part) for part in location)


def field_label(location: tuple[Any, ...]) -> str:
    """The field as a person reads it: its label if it has one, else its last name."""
    names = [str(p) for p in location if isinstance(p, str) and p not in _LOCATIONS]
    if not names:
        return "isi permintaan"
    return FIELD_LABELS.get(names[-1], names[-1])


def _sentence(text: str) -> str:
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "?", "!")) else f"{text}."


def _choices(expected: object) -> str:
    return str(expected).replace(" or ", " atau ")


def validation_message(error: Mapping[str, Any]) -> str:
    """One of pydantic's errors (``type``, ``loc``, ``ctx``) as an Indonesian sentence that says
    what to do. A ``ValueError`` of a validator speaks for itself: a message that begins in
    lower case (``harus ...``) is said of the field, one that begins in capitals is whole."""
    kind: str = error.get("type", "")
    ctx: Mapping[str, Any] = error.get("ctx") or {}
    label = field_label(tuple(error.get("loc", ())))
    if kind == "missing":
        return _sentence(f"isi {label}")
    if kind in ("string_too_short", "too_short"):
        least = ctx.get("min_length", 1)
        if least <= 1:
            return _sentence(f"isi {label}")
        unit = "karakter" if kind == "string_too_short" else "butir"
        return _sentence(f"{label} paling sedikit {least} {unit}")
    if kind in ("string_too_long", "too_long"):
        unit = "karakter" if kind == "string_too_long" else "butir"
        return _sentence(f"{label} paling banyak {ctx.get('max_length')} {unit}; kurangi")
    if kind == "string_pattern_mismatch":
        rule = _PATTERNS.get(str(ctx.get("pattern")))
        return _sentence(
            f"{label} {rule}" if rule else f"format {label} tidak sesuai; periksa lagi"
        )
    if kind in _KINDS:
        return _sentence(f"isi {label} dengan {_KINDS[kind]}")
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bound = {
            "greater_than_equal": f"paling kecil {ctx.get('ge')}",
            "greater_than": f"harus lebih dari {ctx.get('gt')}",
            "less_than_equal": f"paling besar {ctx.get('le')}",
            "less_than": f"harus kurang dari {ctx.get('lt')}",
        }[kind]
        return _sentence(f"{label} {bound}")
    if kind in ("literal_error", "enum"):
        return _sentence(f"pilih {label}: {_choices(ctx.get('expected'))}")
    if kind == "timezone_aware":
        return _sentence(f"sertakan zona waktu pada {label}, mis. +07:00")
    if kind == "extra_forbidden":
        return _sentence(f"kolom {label} tidak dikenal; hapus kolom itu")
    if kind in ("json_invalid", "json_type"):
        return "Isi permintaan bukan JSON yang sah; periksa tanda kutip, koma dan kurung."
    if kind in ("value_error", "assertion_error"):
        said = str(ctx.get("error", "")).strip()
        if said and said[:1].islower():
            return _sentence(f"{label} {said}")
        if said:
            return _sentence(said)
    return _sentence(f"{label} tidak sah; periksa isinya")
