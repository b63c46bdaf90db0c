"""`python -m services.dev_tracking`: run the dev_tracking service."""

from infra.serve import serve
from services.dev_tracking.bootstrap import create_app

if __name__ == "__main__":
    serve("dev_tracking", create_app, default_port=8004)
