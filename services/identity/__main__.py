"""`python -m services.identity`: run the identity service."""

from infra.serve import serve
from services.identity.bootstrap import create_app

if __name__ == "__main__":
    serve("identity", create_app, default_port=8001)
