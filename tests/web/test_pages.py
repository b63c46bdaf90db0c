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


async def test_an_admin_corrects_a_users_rank_for_the_documents(person: Opener) -> None:
    admin = await person("admin")
    await admin.go("/admin/pengguna")
    await admin.page.click("main table a:text('Fajar Nugroho, S.T.')")
    form = admin.page.locator("form[action='/admin/aksi/UpdateProfile']")
    await expect(form.locator("[name='rank']")).to_have_value("Penata Muda Tk. I (III/b)")
    await form.locator("[name='nip']").fill("1992")  # not 18 digits: refused, kept
    await form.locator("[name='rank']").fill("Penata (III/c)")
    await form.locator("button[type=submit]").click()
    await expect(form.locator("[role=alert]")).to_be_visible()
    await expect(form.locator("[name='nip']")).to_have_attribute("aria-invalid", "true")
    await expect(form.locator("[name='rank']")).to_have_value("Penata (III/c)")
    await admin.shot("admin-data-kepegawaian")
    assert await admin.accessibility_violations() == []
    await form.locator("[name='nip']").fill("199207182019031005")
    await form.locator("button[type=submit]").click()
    await admin.page.wait_for_url("**/admin/pengguna?berhasil=UpdateProfile")
    await expect(admin.page.locator(".notice-ok")).to_contain_text("Data kepegawaian disimpan")
    row = admin.page.locator("main table tr", has_text="Fajar Nugroho")
    await expect(row).to_contain_text("Penata (III/c)")
