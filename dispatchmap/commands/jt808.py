"""``dispatchmap jt808-gateway``: JT/T 808 vehicle terminals over TCP -> MQTT."""

from __future__ import annotations

import argparse
import asyncio
import logging
import secrets

from dispatchmap.commands import program_database_url, require
from dispatchmap.commands.servers import _interrupt_on_sigterm

log = logging.getLogger("dispatchmap.jt808")


def cmd_jt808_gateway(args: argparse.Namespace) -> int:
    from dispatchmap.settings import (
        Jt808Settings,
        ServerSettings,
        TopicSettings,
        mqtt_credentials,
        mqtt_host_port,
    )
    from feeds.jt808_gateway import Gateway, Limits
    from feeds.jt808_runtime import Broker, Roster, serve

    servers, cfg, topic_cfg = ServerSettings(), Jt808Settings(), TopicSettings()
    mqtt_url = require(servers.mqtt_url, "MQTT_URL")
    # It only reads which terminals the roster ties to units: the ingest's role.
    roster = Roster(program_database_url("ingest"))
    if cfg.auth_secret is None:
        log.warning("DM_JT808_AUTH_SECRET unset: terminals register again after a restart")
    secret = (cfg.auth_secret or secrets.token_hex(16)).encode()
    limits = Limits(idle_s=cfg.idle_s, auth_s=cfg.auth_s, max_connections=cfg.max_connections)
    broker = Broker(
        *mqtt_host_port(mqtt_url), client_id=cfg.client_id, credentials=mqtt_credentials(mqtt_url)
    )

    async def run() -> None:
        broker.start(asyncio.get_running_loop())
        gateway = Gateway(topic_cfg.prefix, broker.publish, roster.unit_of, secret, limits)
        try:
            await serve(gateway, args.host or cfg.host, args.port or cfg.port)
        finally:
            broker.stop()

    _interrupt_on_sigterm()
    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        log.info("JT/T 808 gateway stopped")
    return 0
