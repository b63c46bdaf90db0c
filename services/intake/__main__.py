"""`python -m services.intake`: run the intake service."""

from infra.serve import serve
from services.intake.bootstrap import create_app

if __name__ == "__main__":
    serve("intake", create_app, default_port=8002)
