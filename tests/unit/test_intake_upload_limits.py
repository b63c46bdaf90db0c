"""The pure rules of intake's upload limits: the daily quota and the slots of uploads in
progress."""

import datetime as dt

import pytest

from services.intake.upload_limits import DailyQuota, TooManyUploads, UploadSlots, Usage

NOW = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)


def test_the_quota_counts_files_then_bytes_and_says_when_to_come_back() -> None:
    quota = DailyQuota(files=3, size_bytes=3 * 2**20)
    oldest = NOW - dt.timedelta(hours=23)
    quota.check(Usage(2, 2 * 2**20, oldest), 2**20, NOW)  # exactly at both limits: accepted
    with pytest.raises(TooManyUploads) as files:
        quota.check(Usage(3, 0, oldest), 1, NOW)
    assert files.value.limit == "upload_files_per_day" and files.value.status == 429
    assert files.value.retry_after == 3600 == int(files.value.headers()["Retry-After"])
    assert "paling banyak 3 berkas dalam 24 jam; coba lagi dalam 60 menit" in files.value.message
    with pytest.raises(TooManyUploads) as size:
        quota.check(Usage(1, 2 * 2**20 + 1, oldest), 2**20, NOW)
    assert size.value.limit == "upload_bytes_per_day"
    assert "paling banyak 3,0 MiB dalam 24 jam, sisa 1,0 MiB" in size.value.message
    assert size.value.detail()["retry_after"] == 3600


def test_slots_cap_one_user_and_everyone_and_are_given_back() -> None:
    slots = UploadSlots(per_user=1, total=2)
    with slots.hold("a"):
        with pytest.raises(TooManyUploads) as own, slots.hold("a"):
            pass
        assert own.value.limit == "uploads_at_once_per_user"
        with slots.hold("b"):
            with pytest.raises(TooManyUploads) as everyone, slots.hold("c"):
                pass
            assert everyone.value.limit == "uploads_at_once"
    with pytest.raises(ValueError), slots.hold("a"):
        raise ValueError("upload failed")
    with slots.hold("a"), slots.hold("b"):  # every slot was given back, on failure too
        pass
