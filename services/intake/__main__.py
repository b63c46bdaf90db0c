"""`python -m services.intake`: run the intake service."""

import uvicorn

from infra.settings import Settings
from services.intake.bootstrap import create_app


def main() -> None:
    settings = Settings(service_name="intake")
    uvicorn.run(create_app(settings), host="127.0.0.1", port=settings.http_port or 8002,
                root_path=settings.root_path, log_level="warning")


if __name__ == "__main__":
    main()
