"""`python -m services.approval`: run the approval service."""

import uvicorn

from infra.settings import Settings
from services.approval.bootstrap import create_app


def main() -> None:
    settings = Settings(service_name="approval")
    uvicorn.run(
        create_app(settings), host="127.0.0.1", port=settings.http_port or 8003, log_level="warning"
    )


if __name__ == "__main__":
    main()
