"""Reporting: read models, the working-time SLA, live notifications and audit replay."""

from pathlib import Path

SQL_DIR = Path(__file__).parent / "sql"
"""Reporting's migrations: the live schema's and every audit replay's."""
