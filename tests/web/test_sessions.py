"""Signing in and out in a real browser: the cookies' flags, CSRF, an expired session, and the
access token renewed with the refresh cookie."""

import httpx

from tests.web.conftest import Opener, Site


async def test_the_session_cookie_is_http_only_and_same_site_strict(person: Opener) -> None:
    kadis = await person("kadis")
    cookies = {c["name"]: c for c in await kadis.context.cookies()}
    for session in (cookies["jejak_sesi"], cookies["jejak_segar"]):
        assert session["httpOnly"] is True
        assert session["sameSite"] == "Strict"
        assert session["secure"] is False  # development on loopback; production sets Secure
    assert await kadis.page.evaluate("document.cookie") == ""  # no script can read it
    assert "Drs. Yohanes Ngabut" in await kadis.page.inner_text("header")


async def test_a_form_without_its_csrf_token_is_refused(person: Opener, site: Site) -> None:
    kadis = await person("kadis")
    token = {c["name"]: c["value"] for c in await kadis.context.cookies()}["jejak_sesi"]
    async with httpx.AsyncClient(base_url=site.url, cookies={"jejak_sesi": token}) as client:
        forged = await client.post("/keluar", data={"csrf_token": "0" * 64})
        assert forged.status_code == 403
        assert "kedaluwarsa atau bukan dari Jejak" in forged.text
        missing = await client.post("/keluar")
        assert missing.status_code == 403
        still = await client.get("/", follow_redirects=False)
        assert still.status_code == 200  # the session was not ended by the forged form


async def test_a_wrong_password_is_refused_and_keeps_the_username(person: Opener) -> None:
    someone = await person("kadis", signed_in=False)
    await someone.go("/masuk")
    await someone.page.fill("#username", "kadis")
    await someone.page.fill("#password", "salah-sandi")
    await someone.page.click("form[action='/masuk'] button[type=submit]")
    assert "Nama pengguna atau kata sandi salah." in await someone.page.inner_text("[role=alert]")
    assert await someone.page.input_value("#username") == "kadis"


async def test_an_expired_session_returns_to_the_login_page_then_back(person: Opener) -> None:
    kabid = await person("kabid.ti")
    await kabid.context.clear_cookies()
    await kabid.context.add_cookies(
        [{"name": "jejak_sesi", "value": "kedaluwarsa.bukan.token", "url": kabid.site.url}]
    )
    await kabid.go("/permohonan?status=OPEN")
    assert "/masuk" in kabid.page.url and "alasan=berakhir" in kabid.page.url
    assert "Sesi Anda telah berakhir" in await kabid.page.inner_text("[role=alert]")
    await kabid.page.fill("#username", "kabid.ti")
    await kabid.page.fill("#password", "rahasia-demo")
    await kabid.page.click("form[action='/masuk'] button[type=submit]")
    await kabid.page.wait_for_url("**/permohonan?status=OPEN")
    assert await kabid.page.inner_text("h1") == "Daftar Permohonan"


async def test_an_expired_access_token_is_renewed_without_leaving_the_page(
    person: Opener,
) -> None:
    """Access tokens live 15 minutes; the refresh cookie renews one that expired (here: one
    replaced by garbage) before the page sees it, and a form drawn before still works."""
    kabid = await person("kabid.ti")
    await kabid.go("/permohonan")
    before = {c["name"]: c for c in await kabid.context.cookies()}
    stale = {**before["jejak_sesi"], "value": "kedaluwarsa.bukan.token"}
    await kabid.context.add_cookies([stale])  # type: ignore[list-item]
    await kabid.go("/permohonan?status=OPEN")
    assert "/masuk" not in kabid.page.url
    assert await kabid.page.inner_text("h1") == "Daftar Permohonan"
    after = {c["name"]: c["value"] for c in await kabid.context.cookies()}
    assert after["jejak_sesi"] not in (stale["value"], "")
    assert after["jejak_segar"] == before["jejak_segar"]["value"]
    await kabid.context.add_cookies([stale])  # type: ignore[list-item]
    await kabid.page.click("form[action='/keluar'] button")  # its CSRF token is from before
    await kabid.page.wait_for_url("**/masuk")


async def test_a_refused_renewal_leads_to_the_login_page(person: Opener) -> None:
    kadis = await person("kadis")
    cookies = {c["name"]: c for c in await kadis.context.cookies()}
    await kadis.context.add_cookies(
        [
            {**cookies["jejak_sesi"], "value": "kedaluwarsa.bukan.token"},  # type: ignore[list-item]
            {**cookies["jejak_segar"], "value": "bukan.token.segar"},  # type: ignore[list-item]
        ]
    )
    await kadis.go("/")
    assert "/masuk" in kadis.page.url and "alasan=berakhir" in kadis.page.url
    names = {c["name"] for c in await kadis.context.cookies()}
    assert "jejak_segar" not in names  # dropped with the refusal


async def test_signing_out_ends_the_session(person: Opener) -> None:
    admin = await person("admin")
    await admin.page.click("form[action='/keluar'] button")
    await admin.page.wait_for_url("**/masuk")
    await admin.go("/")
    assert "/masuk" in admin.page.url


async def test_the_login_page_has_no_serious_accessibility_violation(person: Opener) -> None:
    someone = await person("kadis", signed_in=False)
    await someone.go("/masuk")
    await someone.shot("masuk")
    assert await someone.accessibility_violations() == []
