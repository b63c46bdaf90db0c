"""What a person does on a request page in the browser: wait for a step form, fill it, send it."""

import datetime as dt

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import expect

from tests.web.conftest import Person


async def open_case(someone: Person, request_id: str, command: str, timeout: float = 30) -> None:
    """The request page, reloaded until the service offers ``command`` to this user (the
    services learn of each other's steps over Kafka)."""
    deadline = dt.datetime.now() + dt.timedelta(seconds=timeout)
    while True:
        await someone.go(f"/permohonan/{request_id}")
        if await someone.page.locator(f"#aksi-{command}").count():
            return
        assert dt.datetime.now() < deadline, f"{someone.username} never offered {command}"
        await someone.page.wait_for_timeout(500)


async def act(
    someone: Person, request_id: str, command: str, fill: dict[str, str | list[str]]
) -> None:
    """Open the step form, fill it (``name: value``; ``check:name: [labels]`` ticks the
    checkboxes or the radio of field ``name`` by their labels; ``file:name: content`` uploads),
    send it and expect the page to say it was saved."""
    await open_case(someone, request_id, command)
    form = someone.page.locator(f"#aksi-{command}")
    await form.locator("summary").click()
    for name, value in fill.items():
        if name.startswith("check:"):
            for label in [value] if isinstance(value, str) else value:
                choice = form.locator("label.check", has_text=label)
                await choice.locator(f"input[name='{name[6:]}']").check()
        elif name.startswith("file:"):
            content = str(value).encode()
            await form.locator(f"input[name='{name[5:]}']").set_input_files(
                files=[{"name": "manual.pdf", "mimeType": "application/pdf", "buffer": content}]
            )
        else:
            field = form.locator(f"[name='{name}']")
            if await field.evaluate("element => element.tagName") == "SELECT":
                await field.select_option(str(value))
            else:
                await field.fill(str(value))
    await form.locator("button[type=submit]").click()
    try:
        await someone.page.wait_for_url(f"**/permohonan/{request_id}?berhasil={command}")
    except PlaywrightError:
        await someone.shot(f"refused-{command}")
        alerts = await someone.page.locator("[role=alert], .error").all_inner_texts()
        raise AssertionError(f"{someone.username}: {command} refused: {alerts}") from None
    await expect(someone.page.locator(".notice-ok")).to_contain_text("Tersimpan")
