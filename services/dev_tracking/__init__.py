"""dev_tracking: SOP steps 8-13 (development, problems, tests, manual, UAT) as a pure domain."""
