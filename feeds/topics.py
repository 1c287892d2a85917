"""The MQTT topic layout (prefix ``dm`` configurable):

==========================  =========================================
``{p}/gps/{device_id}``     native JSON from vehicle GPS trackers
``{p}/nmea/{device_id}``    NMEA 0183 sentences from vehicle trackers
``{p}/lip/{terminal_id}``   TETRA LIP PDU as hex (radio terminals)
``{p}/status/{terminal_id}`` terminal status JSON (emergency, keys)
``{p}/jt808/{phone}``       JT/T 808 frames as received (device ``jt808-{phone}``)
``owntracks/{user}/{dev}``  OwnTracks JSON from officers' phones
==========================  =========================================
"""

from __future__ import annotations

from dataclasses import dataclass

FORMAT_BY_SEGMENT = {
    "gps": "native",
    "nmea": "nmea",
    "lip": "lip",
    "status": "status",
    "jt808": "jt808",
}
# A JT/T 808 terminal's topic names its phone number; its device id says the format.
DEVICE_PREFIX = {"jt808": "jt808-"}


@dataclass(frozen=True, slots=True)
class Route:
    """Which decoder a topic goes to and which device sent it."""

    format: str
    device_id: str


@dataclass(frozen=True, slots=True)
class Topics:
    prefix: str = "dm"
    owntracks_prefix: str = "owntracks"

    def subscriptions(self, share_group: str | None = None) -> list[str]:
        """Topic filters the ingest subscribes to; with ``share_group`` as MQTT
        shared subscriptions, so several workers split one feed."""
        filters = [f"{self.prefix}/{seg}/+" for seg in FORMAT_BY_SEGMENT]
        filters.append(f"{self.owntracks_prefix}/+/+")
        return [f"$share/{share_group}/{f}" if share_group else f for f in filters]

    def route(self, topic: str) -> Route | None:
        """The format and device of ``topic``, or None for a topic we do not read."""
        parts = topic.split("/")
        if len(parts) == 3 and parts[0] == self.owntracks_prefix and all(parts[1:]):
            return Route("owntracks", f"owntracks/{parts[1]}/{parts[2]}")
        if (
            len(parts) == 3
            and parts[0] == self.prefix
            and parts[1] in FORMAT_BY_SEGMENT
            and parts[2]
        ):
            return Route(FORMAT_BY_SEGMENT[parts[1]], DEVICE_PREFIX.get(parts[1], "") + parts[2])
        return None

    def gps(self, device_id: str) -> str:
        return f"{self.prefix}/gps/{device_id}"

    def nmea(self, device_id: str) -> str:
        return f"{self.prefix}/nmea/{device_id}"

    def lip(self, terminal_id: str) -> str:
        return f"{self.prefix}/lip/{terminal_id}"

    def status(self, terminal_id: str) -> str:
        return f"{self.prefix}/status/{terminal_id}"

    def jt808(self, phone: str) -> str:
        """Where the JT/T 808 gateway publishes the frames of terminal ``phone``."""
        return f"{self.prefix}/jt808/{phone}"

    def incidents(self) -> str:
        """Where the 110 call-taking system publishes new incidents."""
        return f"{self.prefix}/incidents"

    def orders(self, unit_id: str) -> str:
        """Where a unit's terminal receives its dispatch orders."""
        return f"{self.prefix}/orders/{unit_id}"

    def acks(self, unit_id: str) -> str:
        """Where a unit's terminal answers its orders."""
        return f"{self.prefix}/acks/{unit_id}"

    def dispatch_subscriptions(self) -> list[str]:
        """What the dispatcher worker reads: incidents, acks and terminal status keys."""
        return [self.incidents(), f"{self.prefix}/acks/+", f"{self.prefix}/status/+"]

    def owntracks(self, device_id: str) -> str:
        """``device_id`` as the ingest names phones: ``owntracks/<user>/<device>``."""
        user_device = (
            device_id.split("/", 1)[1] if device_id.startswith("owntracks/") else device_id
        )
        return f"{self.owntracks_prefix}/{user_device}"
