"""Platform registrations: a PyLTI1p3 JSON tool config named by AUTOGRADER_LTI_CONFIG.

One entry per issuer (a list allows several client ids), each with the platform's OIDC
auth, OAuth2 token and JWKS URLs, its deployment ids and the tool's key files:

    {"https://moodle.example.edu": [{
        "default": true, "client_id": "abc123",
        "auth_login_url": "https://moodle.example.edu/mod/lti/auth.php",
        "auth_token_url": "https://moodle.example.edu/mod/lti/token.php",
        "key_set_url": "https://moodle.example.edu/mod/lti/certs.php",
        "deployment_ids": ["1"],
        "private_key_file": "tool-private.pem", "public_key_file": "tool-public.pem"}]}

Key paths are relative to the config file. Without the variable LTI is switched off."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from pylti1p3.exception import LtiException
from pylti1p3.tool_config import ToolConfJsonFile

from app.settings import current_settings

LTI_CONFIG_ENV = "AUTOGRADER_LTI_CONFIG"


class LtiNotConfigured(RuntimeError):
    pass


def config_path() -> Path | None:
    return current_settings().lti_config


class ToolConfig(ToolConfJsonFile):
    """PyLTI1p3's JSON config; an unknown issuer or client is a refused launch (LtiException),
    not a bare Exception."""

    def get_iss_config(self, iss: str, client_id: str | None = None):
        entries = self._config.get(iss)
        entries = entries if isinstance(entries, list) else [entries] if entries else []
        if not any(client_id is None or e.get("client_id") == client_id for e in entries):
            raise LtiException(f"the platform {iss} (client {client_id}) is not registered with this tool")
        return super().get_iss_config(iss, client_id)


@lru_cache(maxsize=4)
def _load(path: Path, mtime_ns: int) -> ToolConfig:
    return ToolConfig(str(path))


def tool_config() -> ToolConfig:
    path = config_path()
    if path is None:
        raise LtiNotConfigured(f"LTI is not configured: set {LTI_CONFIG_ENV} to a tool config file")
    return _load(path, path.stat().st_mtime_ns)


def registrations(conf: ToolConfJsonFile) -> list[tuple[str, str]]:
    """(issuer, client id) of every registration in the config."""
    pairs = []
    for iss, entries in conf._config.items():  # PyLTI1p3 keeps the parsed JSON here
        for entry in entries if isinstance(entries, list) else [entries]:
            pairs.append((iss, entry["client_id"]))
    return pairs


def find_registration(conf: ToolConfJsonFile, iss: str, client_id: str):
    if conf.check_iss_has_one_client(iss):
        return conf.find_registration_by_issuer(iss)
    return conf.find_registration_by_params(iss, client_id)


def jwks(conf: ToolConfJsonFile) -> dict[str, Any]:
    """The tool's public keys, for the platform to check our service-token assertions."""
    keys: dict[str, Any] = {}
    for iss, client_id in registrations(conf):
        for key in find_registration(conf, iss, client_id).get_jwks():
            keys[key["kid"]] = key
    return {"keys": list(keys.values())}
