"""`python -m services.documents`: run the documents service."""

from infra.serve import serve
from services.documents.bootstrap import create_app

if __name__ == "__main__":
    serve("documents", create_app, default_port=8007)
