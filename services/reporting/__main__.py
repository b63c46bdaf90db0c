"""`python -m services.reporting`: run the reporting service."""

from infra.serve import serve
from services.reporting.bootstrap import create_app

if __name__ == "__main__":
    serve("reporting", create_app, default_port=8005)
