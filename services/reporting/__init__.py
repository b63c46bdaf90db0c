"""Reporting: read models, the working-time SLA, live notifications and audit replay."""
