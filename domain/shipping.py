"""Cargo companies' conditions choose the shipment client for a package (spec section 5)."""

from __future__ import annotations

import abc
from dataclasses import dataclass

from domain.errors import InvalidInput
from domain.model import Channel, Order, OrderItem

CHANNEL_CONDITION = "oms.shipments.shipment_conditions.ChannelBasedOrdersCondition"
OMNITRON_CLIENT = "oms.shipments.clients.omnitron_shipment_client.OmnitronShipmentClient"
CONDITION_KLASSES = frozenset({CHANNEL_CONDITION})


@dataclass(frozen=True)
class ChannelRule:
    """ChannelBasedOrdersCondition: orders of these channels use `client`."""

    channels: frozenset[int]
    client: str


@dataclass(frozen=True)
class CargoConditions:
    cargo_company_id: int
    rules: tuple[ChannelRule, ...]

    def client_for(self, channel: Channel) -> str | None:
        for rule in self.rules:
            if channel.id in rule.channels:
                return rule.client
        return None


class ShipmentClient(abc.ABC):
    """Creates the carrier side of a shipment; returns its tracking number."""

    klass: str

    @abc.abstractmethod
    def tracking_number(self, order: Order, items: list[OrderItem]) -> str | None: ...


def choose_client(
    conditions: CargoConditions | None, channel: Channel, clients: dict[str, ShipmentClient]
) -> tuple[ShipmentClient, bool]:
    """The matching rule's client, else the Omnitron client for marketplace channels.
    The flag says whether a rule matched (the default choice is logged by the caller)."""
    chosen = conditions.client_for(channel) if conditions else None
    if chosen is None:
        return clients[OMNITRON_CLIENT], False
    if chosen not in clients:
        raise InvalidInput(f"cargo condition names shipment client {chosen!r}, which is unknown")
    return clients[chosen], True
