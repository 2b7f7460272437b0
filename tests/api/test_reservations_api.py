"""Reservations over HTTP (spec 9.5, 11): the operator's list with its filters and pages, the
merchant's own list (another merchant's offer is simply not in the answer, filtered or not),
the authorization matrix of the merchant endpoint, and the answers equal to the shared query
that `oms reservations` prints."""

from __future__ import annotations

import pytest
import requests
from sqlalchemy import Engine

from adapters.persistence.api_tokens import MERCHANT
from adapters.queries.reservations import reservation_page
from tests.api.conftest import Keys, issue, token
from tests.api.server import ApiServer
from tests.api.stored import example, store
from tests.api.test_auth_matrix import call, unauthenticated

pytestmark = pytest.mark.services
MINE = "/api/v1/merchant/reservations/"
ALL = "/api/v1/reservations/"


def get(api: ApiServer, key: str, path: str, **params: object) -> requests.Response:
    return requests.get(api.url + path, params=params, headers=token(key), timeout=30)


def test_merchant_reservations_authorization_matrix(
    api: ApiServer, keys: Keys, api_db: Engine
) -> None:
    store(api_db, example())  # MER000002: offer-12, offer-13; MER000005: offer-77
    for who, headers in unauthenticated(keys).items():
        answer = call(api, "GET", MINE, None, headers)
        assert answer.status_code == 401, (who, answer.text)
        assert answer.headers["WWW-Authenticate"] == "Token"
    operator = call(api, "GET", MINE, None, token(keys.operator))
    assert operator.status_code == 403
    assert operator.json() == {"detail": "this endpoint needs a merchant token"}

    own = get(api, keys.merchant_a, MINE, limit=100).json()
    assert {r["merchant_reference"] for r in own["results"]} == {"MER000002"}
    assert {"offer-12", "offer-13"} <= {r["product_offer_reference"] for r in own["results"]}
    # another merchant's offer is not in the answer, even when asked for by name
    foreign = get(api, keys.merchant_a, MINE, offer="offer-77").json()
    assert foreign == {"count": 0, "next": None, "previous": None, "results": []}
    theirs = get(api, keys.merchant_b, MINE, offer="offer-77").json()
    assert [r["merchant_reference"] for r in theirs["results"]] == ["MER000005"]
    # the key decides the merchant: a merchant= parameter is no parameter of this endpoint
    assert get(api, keys.merchant_a, MINE, merchant="MER000005").status_code == 422


def test_operator_list_filters_pages_and_is_the_cli_query(
    api: ApiServer, keys: Keys, api_db: Engine
) -> None:
    store(api_db, example())
    one = get(api, keys.operator, ALL, merchant="MER000005", offer="offer-77").json()
    (row,) = one["results"]
    expected = reservation_page(api_db, merchant="MER000005", offer="offer-77").results[0]
    assert row == expected.as_dict()
    assert row["reserved_quantity"] >= 1 and row["open_items"] >= 1
    assert row["oldest_open_order"] is not None and row["sku"] is None
    first = get(api, keys.operator, ALL, limit=1).json()
    assert first["count"] >= 3 and len(first["results"]) == 1
    assert first["next"] is not None and "page=2" in first["next"]
    both = get(api, keys.operator, ALL, offer="offer-77", sku="SKU-LAMP")
    assert both.status_code == 400
    assert both.json()["detail"].startswith("give offer or sku, not both")
    assert get(api, keys.operator, ALL, sku="SKU-LAMP").json()["count"] == 0  # it has an offer
    unknown = get(api, keys.operator, ALL, merchant="NO-SUCH-MERCHANT")
    assert unknown.status_code == 400
    assert unknown.json() == {"detail": "unknown merchant 'NO-SUCH-MERCHANT'"}


def test_a_merchant_with_no_orders_yet_gets_an_empty_list_not_a_400(
    api: ApiServer, keys: Keys, api_db: Engine
) -> None:
    # a merchant with a key but no merchant order yet (schemathesis found the operator's
    # "unknown merchant" 400 applied to the merchant's own list)
    _, newcomer = issue(api_db, MERCHANT, "new shop", "MER000777")
    answer = get(api, newcomer, MINE)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"count": 0, "next": None, "previous": None, "results": []}
    # the operator's filter naming no merchant stays a 400 (spec 11)
    unknown = get(api, keys.operator, ALL, merchant="MER999999")
    assert unknown.status_code == 400
    assert unknown.json()["detail"].startswith("unknown merchant ")
