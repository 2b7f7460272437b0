"""Shipment clients: the carrier side of a shipment."""
