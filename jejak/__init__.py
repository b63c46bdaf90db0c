"""The ``jejak`` command: the composition of the services' command-line parts (no service
imports another; this package imports them)."""
