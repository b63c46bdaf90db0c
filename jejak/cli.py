"""The ``jejak`` command (``python -m jejak.cli``): reporting's ``audit verify`` and ``audit
replay``, each followed by the documents' re-rendering (``services.documents.audit``), and
``audit documents`` for that check alone."""

import typer

from services.documents import audit_cli as documents
from services.reporting import cli as reporting

app, audit = reporting.inspectors_app(
    "Replay the read models from Kafka; verify every hash chain; re-render every document."
)
audit.command("replay")(reporting.replay_command)
audit.command("verify")(reporting.verify_command)
audit.command("documents")(documents.documents_command)


@app.callback()
def _checks(ctx: typer.Context) -> None:
    ctx.obj = reporting.Checks(further=[("documents", documents.check)])


if __name__ == "__main__":
    app()
