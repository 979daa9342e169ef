"""Supervisors' labels for review items, stored in `review_labels`."""

from __future__ import annotations

from typing import Dict, List, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.review.collect import ReviewItem
from bot.store.models import ReviewLabel, utcnow

SKIP = None


def save_label(
    session: Session, key: str, text: str, label: Optional[str], agent_id: Optional[int]
) -> ReviewLabel:
    """Set (or change) the label of the text with this key; None = skipped."""
    row = session.execute(
        select(ReviewLabel).where(ReviewLabel.text_key == key)
    ).scalar_one_or_none()
    if row is None:
        row = ReviewLabel(text_key=key, text=text)
        session.add(row)
    row.label, row.decided_by, row.decided_at = label, agent_id, utcnow()
    session.flush()
    return row


def labels(session: Session) -> Dict[str, Optional[str]]:
    """text key -> label (None: skipped)."""
    rows = session.execute(select(ReviewLabel.text_key, ReviewLabel.label)).all()
    return {key: label for key, label in rows}


def with_labels(items: List[ReviewItem], known: Dict[str, Optional[str]]) -> List[ReviewItem]:
    """The items, each with its stored label; `decided` tells skipped from open."""
    for item in items:
        item.label = known.get(item.key)
    return items


def labelled_rows(session: Session) -> List[ReviewLabel]:
    """Every labelled (not skipped) text."""
    query = select(ReviewLabel).where(ReviewLabel.label.is_not(None)).order_by(ReviewLabel.id)
    return list(session.execute(query).scalars())


def labelled_item(row: ReviewLabel) -> ReviewItem:
    """A stored label as a review-file item (counts are not stored)."""
    return ReviewItem(row.text_key, row.text, 1, ["console"], "", 0.0, row.label)
