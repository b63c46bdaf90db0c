"""The whole SOP clicked through in Chromium by the demo users, each in a browser context of
its own: a return and revision, a failed test and its retest, a rejected UAT, then done. The
Head of IT's inbox gains the request without a reload; a requester of another OPD sees nothing
of it; every page is scanned by axe-core and photographed."""

import datetime as dt
import uuid

from playwright.async_api import expect

from tests.web.conftest import Opener
from tests.web.steps import act, open_case

TODAY = dt.date.today()
STARTED = TODAY - dt.timedelta(days=20)


async def test_a_request_from_submission_to_done(person: Opener) -> None:
    requester = await person("pemohon.dinkes")
    title = f"Sistem Informasi Posyandu {uuid.uuid4().hex[:6]}"

    # Step 1: the guided form, with the business process partly filled
    await requester.go("/permohonan/baru")
    page = requester.page
    await page.fill("[name='title']", title)
    await page.fill("[name='summary']", "Pencatatan balita dan ibu hamil di posyandu.")
    await page.fill("[name='letter.number']", "440/021/DINKES/2026")
    await page.fill("[name='letter.date']", str(TODAY))
    await page.set_input_files(
        "[name='letter_file']",
        files=[{"name": "surat.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.7 surat"}],
    )
    await page.fill("[name='needs_analysis.background']", "Pencatatan masih di buku.")
    await page.fill("[name='needs_analysis.objectives']", "Laporan bulanan otomatis.")
    await page.fill("[name='needs_analysis.intended_users']", "Kader posyandu\nBidan desa")
    await page.fill("[name='needs_analysis.features']", "Registrasi balita\nGrafik tumbuh")
    await page.fill("[name='needs_analysis.platform']", "Web")
    await page.fill("[name='business_process.system_flow']", "Kader mencatat, bidan memeriksa.")
    await page.fill("[name='business_process.input_data']", "Berat badan\nTinggi badan")
    await page.fill("[name='business_process.output_data']", "Laporan bulanan")
    await page.fill("[name='business_process.validation_mechanism']", "Diperiksa bidan.")
    await page.fill("[name='business_process.forms_and_reporting']", "Formulir KMS.")
    missing = page.locator("#kelengkapan")  # the same rule as step 4, live while typing
    await expect(missing).to_contain_text("Belum diisi (4 bagian)")
    await expect(missing).to_contain_text("Manajemen hak akses")
    await requester.shot("permohonan-baru")
    assert await requester.accessibility_violations() == []
    await page.click("form[action='/permohonan/baru'] button[type=submit]")
    await page.wait_for_url("**/permohonan/*?berhasil=SubmitRequest")
    request_id = page.url.split("/permohonan/")[1].split("?")[0]

    # The Head of IT watches the inbox: the request arrives without a reload
    kabid = await person("kabid.ti")
    await kabid.go("/")
    inbox = kabid.page.locator("#kotak-masuk")
    await expect(inbox).not_to_contain_text(title)

    kadis = await person("kadis")
    await act(kadis, request_id, "ReceiveRequest", {"agenda_number": "AG/2026/0021"})
    await act(
        kadis,
        request_id,
        "Dispose",
        {
            "check:instructions": ["Untuk ditindaklanjuti"],
            "urgency": "Segera",
            "note": "Mohon diperiksa kelengkapannya.",
        },
    )
    await kadis.shot("permohonan-disposisi")
    await expect(inbox).to_contain_text(title, timeout=2000)
    arrived = inbox.locator("li.case", has_text=title)
    await expect(arrived).to_contain_text("Waktu kerja langkah ini:")  # the step's clock
    await expect(arrived).to_contain_text("dari standar 15 menit")  # VERIFY's standard
    await kabid.shot("kotak-masuk-kabid")
    assert await kabid.accessibility_violations() == []

    # Step 4: incomplete, returned (the requester's open page says so, without a reload); the
    # requester revises; then complete
    await requester.go(f"/permohonan/{request_id}")
    await act(kabid, request_id, "ReturnRequest", {"reasons": "Manajemen hak akses belum diisi."})
    await expect(requester.page.locator("#tindakan-basi")).to_contain_text(
        "baru berubah", timeout=7000
    )
    await expect(requester.page.locator("#keadaan")).to_contain_text("menunggu Pemohon (OPD)")
    await kabid.go("/")  # opening the request read its notice
    await expect(kabid.page.locator("ul.notices")).to_contain_text(title)
    await expect(kabid.page.locator("ul.notices li.unread", has_text=title)).to_have_count(0)
    revise = {
        "business_process.user_roles": "Kader\nBidan",
        "business_process.access_rights_management": "Bidan melihat semua data desanya.",
        "business_process.user_management": "Admin Dinkes membuat akun.",
        "business_process.database_management": "Backup harian.",
        "note": "Sudah dilengkapi.",
    }
    await act(requester, request_id, "ReviseRequest", revise)
    await act(kabid, request_id, "VerifyDocuments", {"note": "Lengkap."})

    # Steps 5 to 7: the meeting, the signed minutes, the Surat Tugas
    await act(
        kabid,
        request_id,
        "RecordMeeting",
        {
            "check:participants": ["Rudi Hartono", "Siti Rahmah", "Dewi Lestari"],
            "scope": "Registrasi balita dan laporan bulanan.",
            "timeline.planned_start": str(STARTED),
            "timeline.planned_end": str(STARTED + dt.timedelta(days=40)),
            # no number typed: the draft has none, the signed minutes take the register's
        },
    )
    await act(
        kabid,
        request_id,
        "SignMinutes",
        {"check:signatories": ["Rudi Hartono", "Siti Rahmah"]},
    )
    await act(
        kadis,
        request_id,
        "AssignTeam",
        {  # no number typed: Jejak's register numbers the Surat Tugas
            "check:team_members": ["Dewi Lestari", "Fajar Nugroho"],
            "check:team_lead": ["Dewi Lestari"],
            "period_start": str(STARTED),
            "period_end": str(STARTED + dt.timedelta(days=40)),
        },
    )
    lead = await person("dev.lead")

    # Step 8: development, a problem and its solution
    await act(lead, request_id, "StartDevelopment", {"started_on": str(STARTED)})

    # KADIS extends the team's period with a new Surat Tugas, the form filled with the letter in
    # force (issue 17, item 11): the team's progress is kept
    await open_case(kadis, request_id, "AssignTeam")
    extension = kadis.page.locator("#aksi-AssignTeam")
    await extension.locator("summary").click()
    await expect(extension).to_contain_text("Surat Tugas yang berlaku")
    await expect(extension.locator("input[name='period_start']")).to_have_value(str(STARTED))
    await kadis.shot("perpanjang-surat-tugas")
    assert await kadis.accessibility_violations() == []
    await act(kadis, request_id, "AssignTeam", {"period_end": str(TODAY + dt.timedelta(days=60))})
    await act(lead, request_id, "ReportProgress", {"percent": "70", "note": "Registrasi selesai."})
    await act(lead, request_id, "RecordProblem", {"description": "Server uji belum ada."})
    await act(lead, request_id, "SolveProblem", {"solution": "Memakai VM pusat data."})

    # Steps 9 to 12: a failed system test and its retest, unit, integration, the manual
    for number, result, findings in (
        ("1", "Gagal", "Grafik tidak tampil"),
        ("2", "Lulus", ""),
        ("3", "Lulus", ""),
        ("4", "Lulus", ""),
    ):
        await act(
            lead,
            request_id,
            "RecordTestResult",
            {
                "check:result": result,
                "minutes_number": f"BA-UJI/{request_id[:8]}/{number}",
                "findings": findings,
                "tested_on": str(TODAY),
            },
        )
    await act(
        lead,
        request_id,
        "PublishManual",
        {"title": "Buku Manual Posyandu", "file:document": "%PDF-1.7 manual"},
    )

    # Step 13: the UAT rejected, the integration test re-run, then accepted
    await act(
        requester,
        request_id,
        "RecordUat",
        {
            "check:result": "Ditolak",
            "minutes_number": f"BA-UAT/{request_id[:8]}/1",
            "findings": "Ekspor Excel belum ada.",
        },
    )
    await act(
        lead,
        request_id,
        "RecordTestResult",
        {
            "check:result": "Lulus",
            "minutes_number": f"BA-UJI/{request_id[:8]}/5",
            "tested_on": str(TODAY),
        },
    )
    await act(
        requester,
        request_id,
        "RecordUat",
        {"check:result": "Diterima", "minutes_number": f"BA-UAT/{request_id[:8]}/2"},
    )

    # Step 14: done, as everyone sees it
    auditor = await person("auditor")
    deadline = dt.datetime.now() + dt.timedelta(seconds=30)
    while True:
        await auditor.go(f"/permohonan/{request_id}")
        if "Selesai" in await auditor.page.inner_text("p.meta"):
            break
        assert dt.datetime.now() < deadline, "the request never showed Selesai"
        await auditor.page.wait_for_timeout(500)
    await expect(auditor.page.locator("section[aria-labelledby=riwayat] table")).to_contain_text(
        "UAT ditolak"
    )
    await auditor.shot("permohonan-selesai")
    assert await auditor.accessibility_violations() == []

    # The official documents: the Surat Tugas issued, signed, and checkable by anyone
    official = auditor.page.locator("section[aria-labelledby=dokumen-resmi] table")
    letters = official.locator("tr", has_text="Surat Tugas")
    await expect(letters).to_have_count(2, timeout=30_000)  # the first and the extension
    letter = letters.first
    await expect(letter).to_contain_text("800.1.11.1/", timeout=30_000)  # the register's
    minutes = official.locator("tr", has_text="Berita Acara Rapat")
    await expect(minutes).to_have_count(2)  # the draft, then the signed minutes
    await expect(minutes.nth(0)).not_to_contain_text("000.1.5/")  # the draft has no number
    await expect(minutes.nth(1)).to_contain_text("000.1.5/")  # the register's
    pdf_link = await letter.locator("a", has_text="Unduh PDF").get_attribute("href")
    assert pdf_link
    pdf = await (await auditor.context.request.get(auditor.site.url + pdf_link)).body()
    assert pdf.startswith(b"%PDF-")
    visitor = await person("tamu", signed_in=False)
    verify_link = await letter.locator("a", has_text="Verifikasi").get_attribute("href")
    await visitor.go(str(verify_link))
    await expect(visitor.page.locator("main")).to_contain_text("diterbitkan oleh Jejak")
    await expect(visitor.page.locator("main dl")).to_contain_text("Surat Tugas")
    for content, verdict in ((pdf, ".notice-ok"), (pdf[:-10] + b"0" * 10, ".alert")):
        await visitor.page.set_input_files(
            "#berkas",
            files=[{"name": "surat-tugas.pdf", "mimeType": "application/pdf", "buffer": content}],
        )
        await visitor.page.click("main form button[type=submit]")
        await expect(visitor.page.locator(f"main {verdict}[role=status]")).to_be_visible()
    await visitor.shot("verifikasi-dokumen")
    assert await visitor.accessibility_violations() == []

    # A requester of another OPD sees nothing of it, anywhere
    other = await person("pemohon.disdik")
    await other.go("/permohonan")
    await expect(other.page.locator("main")).not_to_contain_text(title)
    await other.go(f"/permohonan/{request_id}")
    await expect(other.page.locator("h1")).to_have_text("Tidak berwenang")
    await other.go("/")
    await expect(other.page.locator("main")).not_to_contain_text(title)


async def test_every_reader_page_is_accessible_and_fits_a_phone(person: Opener) -> None:
    """The list, the SLA report, the audit page and the inbox: axe-core finds nothing serious,
    and on a 360 px wide phone nothing runs off the side of the page."""
    auditor = await person("auditor")
    await auditor.go("/permohonan")
    first = auditor.page.locator("main table tbody a").first
    await expect(first).to_be_visible()
    await auditor.shot("daftar-permohonan")
    assert await auditor.accessibility_violations() == []
    await first.click()
    await auditor.page.click("text=Jejak Audit lengkap")
    chains = auditor.page.locator("section[aria-labelledby=rantai] table")
    await expect(chains).to_contain_text("Utuh")
    await expect(chains).not_to_contain_text("Rusak")
    await auditor.page.click("section[aria-labelledby=keadaan] button[type=submit]")
    await expect(auditor.page.locator("section[aria-labelledby=keadaan] dl")).to_contain_text(
        "Keadaan pada"
    )
    async with auditor.page.expect_download() as download:
        await auditor.page.click("a[href$='ekspor.csv']")
    exported = await (await download.value).path()
    assert "RequestSubmitted" in exported.read_text()
    await auditor.shot("jejak-audit")
    assert await auditor.accessibility_violations() == []
    await auditor.go("/laporan/sla")
    await expect(auditor.page.locator("h1")).to_have_text("Laporan SLA")
    await auditor.page.fill("#f-bulan", dt.date.today().strftime("%Y-%m"))
    await auditor.page.click("main form button[type=submit]")
    await expect(auditor.page.locator("main")).to_contain_text("Diajukan pada bulan")
    await auditor.shot("laporan-sla")
    assert await auditor.accessibility_violations() == []

    phone = await person("pemohon.dinkes", width=360)
    for path, name in (("/", "ponsel-kotak-masuk"), ("/permohonan/baru", "ponsel-baru")):
        await phone.go(path)
        await phone.shot(name)
        width = await phone.page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"{path} is {width} px wide on a 360 px phone"
