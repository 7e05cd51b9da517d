"""Starting the whole of Musterstadt in-process: portal, Fachverfahren Steuern, e-Akte, mail.

`run_all` is what ``python -m sandbox up`` and the demo use. The back-office apps are imported
lazily: a sandbox checkout without one of them still starts the others and says which is missing.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from sandbox._common import serve_in_thread
from sandbox.portal import PortalConfig, create_app

__all__ = ["RunningSandbox", "SandboxConfig", "run_all"]

# name -> (module, config class)
_BACK_OFFICES = {
    "steuer": ("sandbox.steuer", "SteuerConfig"),
    "eakte": ("sandbox.eakte", "EakteConfig"),
}
_CREDENTIAL_HINTS = ("account", "user", "password", "secret", "token", "client")


class SandboxConfig(BaseModel):
    """Where and how to run the three apps.

    Args:
        data_dir: Parent directory; each app gets its own subdirectory.
        portal_port: Port of the portal (0 = any free port).
        layout: Layout version of the back office (``v1``, ``v2`` …), if it supports one.
        lockout_after: Failed logins in a row that lock a back-office account (None: never),
            for the back offices that support it.
        mail_port / smtp_port: Webmail and SMTP intake of the mail system (the citizens'
            mailboxes); ``mail_port=None`` starts no mail system.
        key_size: RSA key size of newly generated portal keys.
        seed: Seed for the apps' fault randomness.
    """

    data_dir: Path = Path("var/sandbox")
    host: str = "127.0.0.1"
    portal_port: int = Field(8401, ge=0, le=65535)
    steuer_port: int = Field(8402, ge=0, le=65535)
    eakte_port: int = Field(8403, ge=0, le=65535)
    mail_port: int | None = Field(8404, ge=0, le=65535, description="webmail (None: no mail)")
    smtp_port: int = Field(8425, ge=0, le=65535, description="SMTP intake of the mail system")
    layout: str = "v1"
    lockout_after: int | None = Field(None, ge=0)
    key_size: int = 4096
    seed: int | None = None
    portal: dict[str, Any] = Field(default_factory=dict, description="extra PortalConfig fields")
    steuer: dict[str, Any] = Field(default_factory=dict, description="extra SteuerConfig fields")
    eakte: dict[str, Any] = Field(default_factory=dict, description="extra EakteConfig fields")


@dataclass
class RunningSandbox:
    """Base URLs and configs of the running apps (None for an app that is not available)."""

    urls: dict[str, str]
    configs: dict[str, BaseModel]
    missing: list[str] = field(default_factory=list)

    @property
    def portal_url(self) -> str:
        """Base URL of the portal."""
        return self.urls["portal"]

    @property
    def steuer_url(self) -> str | None:
        """Base URL of the Fachverfahren Steuern."""
        return self.urls.get("steuer")

    @property
    def eakte_url(self) -> str | None:
        """Base URL of the e-Akte."""
        return self.urls.get("eakte")

    def credentials(self) -> dict[str, dict[str, Any]]:
        """Demo logins, client credentials and admin tokens per app."""
        out: dict[str, dict[str, Any]] = {}
        for name, cfg in self.configs.items():
            dumped = cfg.model_dump(mode="json")
            out[name] = {k: v for k, v in dumped.items() if any(h in k for h in _CREDENTIAL_HINTS)}
        return out


def _back_office_config(name: str, config: SandboxConfig) -> tuple[Any, BaseModel] | None:
    module_name, config_name = _BACK_OFFICES[name]
    try:
        module = importlib.import_module(module_name)
        config_cls = getattr(module, config_name)
        create = module.create_app
    except (ImportError, AttributeError):
        return None
    fields = config_cls.model_fields
    kwargs: dict[str, Any] = {"data_dir": config.data_dir / name}
    if "layout" in fields:
        kwargs["layout"] = config.layout
    if "lockout_after" in fields and config.lockout_after is not None:
        kwargs["lockout_after"] = config.lockout_after
    if "seed" in fields and config.seed is not None:
        kwargs["seed"] = config.seed
    kwargs.update(getattr(config, name))
    return create, config_cls(**kwargs)


@contextlib.contextmanager
def run_all(config: SandboxConfig | None = None) -> Iterator[RunningSandbox]:
    """Serve mail, portal, Steuern and e-Akte in background threads until the block ends.

    Args:
        config: Ports, data directory, layout; defaults to ``var/sandbox`` on 8401–8403.

    Yields:
        The base URLs (``running.urls["portal"]`` …) and each app's config (for credentials).
    """
    config = config or SandboxConfig()
    with contextlib.ExitStack() as stack:
        urls: dict[str, str] = {}
        configs: dict[str, BaseModel] = {}
        portal_extra = dict(config.portal)
        if config.mail_port is not None:
            # The mail system first: the portal's status page links to the citizen's mailbox.
            from sandbox.mail import MailConfig, serve_mail

            mail_config = MailConfig(
                data_dir=config.data_dir / "mail",
                host=config.host,
                smtp_port=config.smtp_port,
                http_port=config.mail_port,
            )
            mail = stack.enter_context(serve_mail(mail_config))
            urls["mail"] = mail.base_url
            urls["smtp"] = f"smtp://{mail.smtp_host}:{mail.smtp_port}"
            configs["mail"] = mail_config
            portal_extra.setdefault("webmail_url", mail.base_url)
        portal_config = PortalConfig(
            data_dir=config.data_dir / "portal",
            key_size=config.key_size,
            seed=config.seed,
            **portal_extra,
        )
        apps: list[tuple[str, Any, BaseModel, int]] = [
            ("portal", create_app, portal_config, config.portal_port)
        ]
        missing = []
        for name, port in (("steuer", config.steuer_port), ("eakte", config.eakte_port)):
            found = _back_office_config(name, config)
            if found is None:
                missing.append(name)
            else:
                apps.append((name, found[0], found[1], port))
        for name, factory, app_config, port in apps:
            served = stack.enter_context(serve_in_thread(factory(app_config), port, config.host))
            urls[name] = served.base_url
            configs[name] = app_config
        yield RunningSandbox(urls=urls, configs=configs, missing=missing)
