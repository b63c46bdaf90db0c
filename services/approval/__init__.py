"""Approval: disposition, completeness check, meeting, minutes and assignment (SOP steps 3-7)."""
