"""A Plh. of the Head of Department, appointed on the Admin page, disposes a request in the
browser; the history says on whose behalf; the admin ends the appointment."""

import asyncio
import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import httpx
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import expect

from services.identity.demo import DEMO_PASSWORD
from tests.web.conftest import Opener, Person, Site, sign_in
from tests.web.steps import act

WIB = ZoneInfo("Asia/Jakarta")


async def request_at_disposition(site: Site, title: str) -> str:
    """A request submitted and received over the API: the browser part starts at step 3."""
    async with httpx.AsyncClient(base_url=f"{site.url}/api", timeout=30) as api:

        async def token(username: str) -> dict[str, str]:
            answer = await api.post(
                "/identity/login", json={"username": username, "password": DEMO_PASSWORD}
            )
            return {"Authorization": f"Bearer {answer.json()['access_token']}"}

        body = {
            "title": title,
            "summary": "Antrean layanan perizinan.",
            "letter": {"number": "503/011/DINKES/2026", "date": str(dt.date.today())},
        }
        submitted = await api.post(
            "/intake/requests", json=body, headers=await token("pemohon.dinkes")
        )
        assert submitted.status_code == 201, submitted.text
        request_id: str = submitted.json()["request_id"]
        received = await api.post(
            f"/intake/requests/{request_id}/receive",
            json={"agenda_number": "AG/2026/0777"},
            headers=await token("kadis"),
        )
        assert received.status_code == 200, received.text
        return request_id


async def admin_submits(admin: Person, form: str, fields: dict[str, str]) -> None:
    """Fill an Admin form (selects by their option's text) and send it."""
    where = admin.page.locator(f"form[action='/admin/aksi/{form}']")
    for name, value in fields.items():
        field = where.locator(f"[name='{name}']")
        if await field.evaluate("e => e.tagName") == "SELECT":
            label = await field.locator("option", has_text=value).first.inner_text()
            await field.select_option(label=label)
        else:
            await field.fill(value)
    await where.locator("button[type=submit]").click()
    try:
        await admin.page.wait_for_url(f"**berhasil={form}")
    except PlaywrightError:
        alerts = await admin.page.locator("[role=alert]").all_inner_texts()
        raise AssertionError(f"{form} refused: {alerts}") from None


async def end_acting_heads(admin: Person) -> None:
    """End, on the Admin page, every Plt/Plh of the Head of Department still in force."""
    while True:
        await admin.go("/admin/plt")
        choices = admin.page.locator("select[name='delegation_id'] option", has_text="Kepala Dinas")
        if not await choices.count():
            return
        label = await choices.first.inner_text()
        await admin_submits(
            admin, "EndDelegation", {"delegation_id": label, "reason": "Digantikan penugasan baru."}
        )


async def test_a_plh_disposes_for_the_head_of_department(person: Opener, site: Site) -> None:
    suffix = uuid.uuid4().hex[:6]
    title = f"Aplikasi Antrean Perizinan {suffix}"
    request_id = await request_at_disposition(site, title)

    admin = await person("admin")
    await admin.go("/admin/pengguna")
    assert await admin.accessibility_violations() == []
    await admin_submits(
        admin,
        "RegisterUser",
        {
            "full_name": f"Hendra Saputra, S.Sos. {suffix}",
            "username": f"sekdis.{suffix}",
            "password": "rahasia-sekdis",
            "opd": "Dinas Komunikasi",
        },
    )
    await expect(admin.page.locator("main")).to_contain_text(f"sekdis.{suffix}")
    await end_acting_heads(admin)  # one Plt/Plh at a time: the refusal says to end the old first
    now = dt.datetime.now(WIB).replace(microsecond=0) + dt.timedelta(seconds=1)
    await admin.go("/admin/plt")
    await admin_submits(
        admin,
        "GrantDelegation",
        {
            "delegate_user_id": f"Hendra Saputra, S.Sos. {suffix}",
            "official_user_id": "Drs. Yohanes Ngabut",
            "role": "Kepala Dinas",
            "kind": "Plh.",
            "valid_from": now.strftime("%Y-%m-%dT%H:%M:%S"),
            "valid_until": (now + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S"),
            "reason": "Kepala Dinas dinas luar; Surat Perintah 800/12/2026.",
        },
    )
    await expect(admin.page.locator("main table")).to_contain_text("Berlaku")
    await admin.shot("admin-plt")
    assert await admin.accessibility_violations() == []

    await asyncio.sleep(max(0.0, (now - dt.datetime.now(WIB)).total_seconds()))  # in force
    plh = await person(f"sekdis.{suffix}", signed_in=False)
    await sign_in(plh, password="rahasia-sekdis")
    await expect(plh.page.locator("header")).to_contain_text("Plh. Kepala Dinas")
    await expect(plh.page.locator("#kotak-masuk")).to_contain_text(title)
    await act(
        plh,
        request_id,
        "Dispose",
        {"check:instructions": ["Koordinasikan"], "note": "Atas nama Kepala Dinas."},
    )
    history = plh.page.locator("section[aria-labelledby=riwayat] table")
    await expect(history).to_contain_text("Plh. Kepala Dinas a.n. Drs. Yohanes Ngabut")
    await plh.shot("permohonan-plh")

    await admin.go("/admin/plt")
    await admin_submits(
        admin,
        "EndDelegation",
        {"delegation_id": f"Hendra Saputra, S.Sos. {suffix}", "reason": "Kepala Dinas kembali."},
    )
    await expect(admin.page.locator("main table")).to_contain_text("Diakhiri")
