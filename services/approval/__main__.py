"""`python -m services.approval`: run the approval service."""

from infra.serve import serve
from services.approval.bootstrap import create_app

if __name__ == "__main__":
    serve("approval", create_app, default_port=8003)
