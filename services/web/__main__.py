"""`python -m services.web`: run the web app."""

import uvicorn

from services.web.bootstrap import create_app
from services.web.settings import WebSettings

if __name__ == "__main__":
    settings = WebSettings(service_name="web")
    uvicorn.run(
        create_app(settings),
        host=settings.http_host,
        port=settings.http_port or 8007,
        log_level="warning",
    )
