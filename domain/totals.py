"""Exact integer totals (spec section 4). Totals are always recomputed from the lines."""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction

from domain.model import Expense, OrderItem, Totals


def tax_of(price_to_pay: int, tax_rate: Fraction) -> int:
    """Gross prices include tax: tax = round_half_up(p * r / (100 + r)).

    In integers (the hot path of every split and change): with r = a/b, p*r/(100+r) is
    p*a / (100*b + a), rounded half away from zero."""
    a, b = tax_rate.numerator, tax_rate.denominator
    numerator, denominator = price_to_pay * a, 100 * b + a
    if denominator < 0:
        numerator, denominator = -numerator, -denominator
    if numerator < 0:
        return -((-numerator * 2 + denominator) // (2 * denominator))
    return (numerator * 2 + denominator) // (2 * denominator)


def _line_totals(
    sum_price: int,
    discount: int,
    tax_rate: Fraction,
    canceled: bool,
    refunded: bool,
    is_expense: bool,
) -> Totals:
    price_to_pay = sum_price - discount
    canceled_amount = price_to_pay if canceled else 0
    refunded_amount = price_to_pay if refunded else 0
    live = not (canceled or refunded)
    return Totals(
        subtotal=0 if is_expense else sum_price,
        expense_total=sum_price if is_expense else 0,
        discount_total=discount,
        canceled_total=canceled_amount,
        refund_total=refunded_amount,
        tax_total=tax_of(price_to_pay, tax_rate) if live else 0,
        grand_total=price_to_pay - canceled_amount - refunded_amount,
    )


def item_totals(item: OrderItem) -> Totals:
    return _line_totals(
        item.price * item.quantity,
        item.discount_amount,
        item.tax_rate,
        item.canceled,
        item.refunded,
        is_expense=False,
    )


def expense_totals(expense: Expense) -> Totals:
    return _line_totals(
        expense.price * expense.quantity,
        expense.discount_amount,
        expense.tax_rate,
        expense.canceled,
        expense.refunded,
        is_expense=True,
    )


def totals_of(items: Iterable[OrderItem], expenses: Iterable[Expense] = ()) -> Totals:
    total = Totals()
    for item in items:
        total += item_totals(item)
    for expense in expenses:
        total += expense_totals(expense)
    return total
