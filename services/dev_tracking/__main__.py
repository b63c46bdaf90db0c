"""`python -m services.dev_tracking`: run the dev_tracking service."""

import uvicorn

from infra.settings import Settings
from services.dev_tracking.bootstrap import create_app


def main() -> None:
    settings = Settings(service_name="dev_tracking")
    uvicorn.run(
        create_app(settings), host="127.0.0.1", port=settings.http_port or 8004, log_level="warning"
    )


if __name__ == "__main__":
    main()
