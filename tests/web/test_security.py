"""Issue 17 through the web app: login throttling keyed on the browser's address (the web app
calls identity's /login itself), an admin unlocking a locked account from the user's page, and
the live stream, closed when a role it serves is revoked, resumed by the browser's EventSource
with Last-Event-ID."""

import contextlib
import re
import uuid
from collections.abc import Mapping

import httpx
from playwright.async_api import Request, expect

from services.identity.demo import DEMO_PASSWORD
from tests.kafka_helpers import eventually
from tests.web.conftest import STREAM_RECHECK_SECONDS, Opener, Site

PASSWORD = "kata-sandi-uji-web"


async def identity_call(site: Site, path: str, body: Mapping[str, object]) -> httpx.Response:
    """identity's API as the admin, straight to its process."""
    async with httpx.AsyncClient(base_url=site.processes["identity"].url) as c:
        signed = await c.post("/login", json={"username": "admin", "password": DEMO_PASSWORD})
        token = signed.json()["access_token"]
        return await c.post(path, json=body, headers={"Authorization": f"Bearer {token}"})


async def new_user(site: Site, roles: list[str]) -> tuple[str, str]:
    username = f"w{uuid.uuid4().hex[:10]}"
    body = {
        "username": username,
        "password": PASSWORD,
        "full_name": f"Pegawai {username}",
        "opd": "DISKOMINFOSTANDI",
        "roles": roles,
    }
    created = await identity_call(site, "/users", body)
    assert created.status_code == 201, created.text
    return created.json()["user"]["user_id"], username


async def web_login(web: httpx.AsyncClient, browser: str, username: str, password: str) -> int:
    """A sign-in on the web app's own form, from ``browser``'s address (as the gateway names
    it); the status of the answer."""
    form = await web.get("/masuk", headers={"X-Forwarded-For": browser})
    match = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert match, form.text
    answer = await web.post(
        "/masuk",
        data={"username": username, "password": password, "csrf_token": match[1]},
        headers={"X-Forwarded-For": browser},
    )
    return answer.status_code


async def test_login_throttling_counts_each_browsers_address_not_the_web_apps(
    site: Site,
) -> None:
    _, username = await new_user(site, ["AUDITOR"])
    guesser, neighbour = "198.51.100.7", "198.51.100.8"
    async with httpx.AsyncClient(base_url=site.processes["web"].url) as web:
        for i in range(20):
            assert await web_login(web, guesser, f"tebakan{i}-{uuid.uuid4().hex[:6]}", "x") == 401
        assert await web_login(web, guesser, username, PASSWORD) == 429
    async with httpx.AsyncClient(base_url=site.processes["web"].url) as web:
        assert await web_login(web, neighbour, username, PASSWORD) == 303  # signed in


async def test_an_admin_unlocks_a_locked_account_from_the_users_page(
    person: Opener, site: Site
) -> None:
    user_id, username = await new_user(site, ["AUDITOR"])
    async with httpx.AsyncClient(base_url=site.processes["identity"].url) as c:
        for _ in range(5):  # from an address of its own: the other tests' is left alone
            wrong = {"username": username, "password": "salah"}
            guess = await c.post("/login", json=wrong, headers={"X-Forwarded-For": "192.0.2.9"})
            assert guess.status_code == 401
    locked = await person(username, signed_in=False)
    await locked.go("/masuk")
    await locked.page.fill("#username", username)
    await locked.page.fill("#password", PASSWORD)
    await locked.page.click("form[action='/masuk'] button[type=submit]")
    await expect(locked.page.locator("[role=alert]")).to_contain_text("Akun dikunci sementara")

    admin = await person("admin")
    await admin.go(f"/admin/pengguna/{user_id}")
    form = admin.page.locator("form[action='/admin/aksi/UnlockLogin']")
    await expect(form).to_contain_text("Akun terkunci sampai")
    await admin.shot("admin-buka-kunci")
    assert await admin.accessibility_violations() == []
    await form.locator("button[type=submit]").click()
    await admin.page.wait_for_url("**/admin/pengguna?berhasil=UnlockLogin")
    await expect(admin.page.locator(".notice-ok")).to_contain_text("Kunci akun dibuka")
    await admin.go(f"/admin/pengguna/{user_id}")
    await expect(form).to_contain_text("Akun tidak terkunci")

    await locked.page.fill("#password", PASSWORD)
    await locked.page.click("form[action='/masuk'] button[type=submit]")
    await locked.page.wait_for_url(lambda url: "/masuk" not in url)


async def test_a_live_stream_closed_by_a_revoked_role_resumes_with_last_event_id(
    person: Opener, site: Site
) -> None:
    user_id, username = await new_user(site, ["KABID_TI", "AUDITOR"])
    streams: list[Request] = []
    someone = await person(username, signed_in=False)
    someone.page.on("request", lambda r: streams.append(r) if "/langsung" in r.url else None)
    await someone.go("/masuk")
    await someone.page.fill("#username", username)
    await someone.page.fill("#password", PASSWORD)
    await someone.page.click("form[action='/masuk'] button[type=submit]")
    await someone.page.wait_for_url(lambda url: "/masuk" not in url)

    async def opened(count: int) -> bool:
        return len(streams) >= count

    assert await eventually(lambda: opened(1), timeout=10), "no live stream"
    first = await streams[0].all_headers()
    assert "last-event-id" not in first
    revoked = await identity_call(
        site, f"/users/{user_id}/roles/revoke", {"role": "AUDITOR", "reason": "Mutasi"}
    )
    assert revoked.status_code == 200, revoked.text
    # reporting closes the stream within its re-check; the browser reconnects by itself
    assert await eventually(lambda: opened(2), timeout=STREAM_RECHECK_SECONDS + 15)
    again = await streams[1].all_headers()
    assert re.fullmatch(r"[0-9]+", again.get("last-event-id", "")), again
    response = await streams[1].response()
    assert response is not None and response.status == 200


async def test_a_user_above_the_cap_of_streams_is_told_to_come_back_later(site: Site) -> None:
    """reporting answers 429 to one stream too many; the web app's live relay turns it into a
    stream that tells the browser to wait 30 s before reconnecting (not to hammer at once)."""
    _, username = await new_user(site, ["AUDITOR"])
    async with httpx.AsyncClient(base_url=site.processes["identity"].url) as c:
        signed = await c.post("/login", json={"username": username, "password": PASSWORD})
        bearer = {"Authorization": f"Bearer {signed.json()['access_token']}"}
    async with (
        contextlib.AsyncExitStack() as held,
        httpx.AsyncClient(base_url=site.processes["reporting"].url, timeout=10) as reporting,
    ):
        for _ in range(5):  # REPORTING_STREAMS_PER_USER's default
            opened = await held.enter_async_context(
                reporting.stream("GET", "/notifications/stream", headers=bearer)
            )
            assert opened.status_code == 200
        over = await reporting.get("/notifications/stream", headers=bearer)
        assert over.status_code == 429 and "Terlalu banyak" in over.json()["message"]
        async with httpx.AsyncClient(base_url=site.processes["web"].url, timeout=10) as web:
            assert await web_login(web, "198.51.100.20", username, PASSWORD) == 303
            async with web.stream("GET", "/langsung") as live:
                assert live.status_code == 200
                lines = [line async for line in live.aiter_lines()]
    assert "retry: 30000" in lines, lines
