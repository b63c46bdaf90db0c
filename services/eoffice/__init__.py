"""The e-office boundary's outbound side: every status change of a request, signed, to the
tenant's e-office callback URL, in order per request, at least once (docs/eoffice-webhook.md)."""
