"""The pages not walked elsewhere, each photographed and scanned by axe-core: the admin's
sections, the public verification page, a refusal."""

import uuid

from playwright.async_api import expect

from tests.web.conftest import Opener


async def test_the_admin_sections(person: Opener) -> None:
    admin = await person("admin")
    for section, heading in (
        ("opd", "OPD"),
        ("kalender", "Kalender Kerja"),
        ("eoffice", "Pengiriman e-office"),
    ):
        await admin.go(f"/admin/{section}")
        await expect(admin.page.locator("main h2").first).to_have_text(heading)
        await admin.shot(f"admin-{section}")
        assert await admin.accessibility_violations() == [], section


async def test_a_refused_calendar_edit_keeps_what_was_typed(person: Opener) -> None:
    admin = await person("admin")
    await admin.go("/admin/kalender")
    form = admin.page.locator("form[action='/admin/aksi/EditCalendarDay']")
    await form.locator("[name='day']").fill("2026-12-28")
    await form.locator("[name='note']").fill("x" * 600)  # longer than a note may be
    await form.locator("button[type=submit]").click()
    await expect(form.locator("[role=alert]")).to_be_visible()
    await expect(form.locator("[name='note']")).to_have_value("x" * 600)
    await expect(form.locator("[name='note']")).to_have_attribute("aria-invalid", "true")
    assert await admin.accessibility_violations() == []


async def test_an_unknown_document_on_the_public_verification_page(person: Opener) -> None:
    visitor = await person("tamu", signed_in=False)
    await visitor.go(f"/verifikasi/{uuid.uuid4()}")
    await expect(visitor.page.locator("[role=alert]")).to_contain_text("Tidak ada dokumen")
    assert "/masuk" not in visitor.page.url  # public: no login asked
    await visitor.shot("verifikasi-tidak-dikenal")
    assert await visitor.accessibility_violations() == []


async def test_an_admin_sees_no_request(person: Opener) -> None:
    admin = await person("admin")
    await admin.go("/permohonan")
    await expect(admin.page.locator("h1")).to_have_text("Tidak berwenang")
    await admin.shot("ditolak")
    assert await admin.accessibility_violations() == []
