"""`python -m services.eoffice`: run the eoffice service."""

from infra.serve import serve
from services.eoffice.bootstrap import create_app

if __name__ == "__main__":
    serve("eoffice", create_app, default_port=8006)
