"""The deployment believes X-Forwarded-For only from its own proxy: identity throttles logins per
client address, so a service that trusted every peer would let anyone choose theirs, and one
that trusted none would count every login as the proxy's (docs/security.md)."""

from pathlib import Path

import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def test_compose_trusts_only_the_gateways_fixed_address() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    gateway = compose["services"]["gateway"]["networks"]["default"]["ipv4_address"]
    services = [
        s
        for n, s in compose["services"].items()
        if n
        not in {
            "kafka",
            "kafka-format",
            "kafka-setup",
            "postgres",
            "gateway",
            "migrations",
            "identity",
        }
    ]
    assert len(services) == 7
    assert {s["environment"]["FORWARDED_ALLOW_IPS"] for s in services} == {gateway}


def test_compose_identity_believes_the_web_app_too_which_names_the_browsers_address() -> None:
    """The web app calls identity's /login for every browser: without its address among those
    believed, every browser login would count against the web app's one address."""
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    gateway = compose["services"]["gateway"]["networks"]["default"]["ipv4_address"]
    web = compose["services"]["web"]["networks"]["default"]["ipv4_address"]
    believed = compose["services"]["identity"]["environment"]["FORWARDED_ALLOW_IPS"]
    assert set(believed.split(",")) == {gateway, web}
    assert web != gateway
