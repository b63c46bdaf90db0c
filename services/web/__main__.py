"""`python -m services.web`: run the web app."""

from infra.serve import run_app
from services.web.bootstrap import create_app
from services.web.settings import WebSettings

if __name__ == "__main__":
    settings = WebSettings.from_environment(service_name="web")
    run_app(create_app(settings), "web", settings.http_host, settings.http_port or 8007)
