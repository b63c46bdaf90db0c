"""`python -m services.identity`: run the identity service."""

import uvicorn

from infra.settings import Settings
from services.identity.bootstrap import create_app


def main() -> None:
    settings = Settings(service_name="identity")
    uvicorn.run(create_app(settings), host="127.0.0.1", port=settings.http_port or 8001,
                root_path=settings.root_path, log_level="warning")


if __name__ == "__main__":
    main()
