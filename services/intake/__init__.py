"""Intake: the request and its documents, SOP steps 1 (submit) and 2 (receive)."""
