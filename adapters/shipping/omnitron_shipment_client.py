"""OmnitronShipmentClient: for marketplace orders the marketplace ships; no carrier is called.
It only reads the tracking number from the order (spec section 5)."""

from __future__ import annotations

from domain.model import Order, OrderItem
from domain.packaging import package_tracking_number
from domain.shipping import OMNITRON_CLIENT, ShipmentClient


class OmnitronShipmentClient(ShipmentClient):
    klass = OMNITRON_CLIENT

    def tracking_number(self, order: Order, items: list[OrderItem]) -> str | None:
        return package_tracking_number(order, items)


def shipment_clients() -> dict[str, ShipmentClient]:
    client = OmnitronShipmentClient()
    return {client.klass: client}
