"""VietQR for an order: a transfer of the order's total to the producer's own account, with the
order code in the purpose ('DH <order code>', which the bank's notification brings back). The
payload itself is ``core.vietqr``'s."""
from __future__ import annotations

from core import vietqr

PURPOSE_PREFIX = "DH "  # "đơn hàng"


def purpose_for(order_code: str) -> str:
    """The transfer purpose of an order: 'DH <order code>' (ASCII, at most 25 characters)."""
    return vietqr.purpose_with_code(order_code, (PURPOSE_PREFIX,), what="order code")


def payload_for(order) -> str:
    """The VietQR payload of ``order``'s total to its producer's account (ValueError when the
    producer has no account for transfers)."""
    producer = order.producer
    if not (producer.bank_bin and producer.bank_account):
        raise ValueError("The producer has no bank account for transfers.")
    return vietqr.build_payload(bank_bin=producer.bank_bin, account=producer.bank_account, amount=order.total,
                                purpose=purpose_for(order.code))
