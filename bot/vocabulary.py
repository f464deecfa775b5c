"""The controlled vocabularies of the domain, shared by models, services and templates."""

from __future__ import annotations

from enum import StrEnum


class Series(StrEnum):
    """Two trade series that are never mixed: they differ in period, publisher and valuation."""

    INDIA_FY = "india_fy"  # India's fiscal year (April-March), Ministry of Commerce / DGCI&S
    CHINA_CY = "china_cy"  # calendar year, China's General Administration of Customs


class Stage(StrEnum):
    PROVISIONAL = "provisional"
    FINAL = "final"


class Granularity(StrEnum):
    """How much of a year a trade figure covers: never silently stood in for one another."""

    YEAR = "year"  # a whole fiscal (india_fy) or calendar (china_cy) year
    CUMULATIVE = "cumulative"  # the year so far: from its first month to a later one
    MONTH = "month"  # one calendar month


class Quantity(StrEnum):
    """The four related figures of a trade period, all from India's point of view."""

    EXPORTS = "exports"  # India's exports to China (in China's books: China's imports from India)
    IMPORTS = "imports"  # India's imports from China (in China's books: China's exports to India)
    TOTAL = "total"
    DEFICIT = "deficit"  # India's deficit = imports - exports


class PassStatus(StrEnum):
    OPEN = "open"
    CLOSED_FOR_SEASON = "closed_for_season"
    SUSPENDED = "suspended"
    REOPENING_AGREED = "reopening_agreed"
    REOPENING_SCHEDULED = "reopening_scheduled"


class DealStatus(StrEnum):
    PROPOSED = "proposed"
    UNDER_NEGOTIATION = "under_negotiation"
    AGREED = "agreed"
    IN_EFFECT = "in_effect"
    RESTRICTED = "restricted"
    SUSPENDED = "suspended"
    LAPSED = "lapsed"


class Direction(StrEnum):
    CHINA_TO_INDIA = "china_to_india"
    INDIA_TO_CHINA = "india_to_china"


class FlightStatus(StrEnum):
    ANNOUNCED = "announced"
    OPERATING = "operating"
    SUSPENDED = "suspended"


class Topic(StrEnum):
    """What a subscriber can follow, and what a context note or history row is about."""

    TRADE = "trade"
    DEALS = "deals"
    PASSES = "passes"
    FLIGHTS = "flights"
    GENERAL = "general"


class RecordType(StrEnum):
    """The kinds of record a history row can point at (by key)."""

    SOURCE = "source"
    FIGURE = "figure"
    PASS = "pass"
    DEAL = "deal"
    FLIGHT = "flight"
    NOTE = "note"
    COMPOSITION = "composition"  # a product group's share of imports or exports
    ADMIN = "admin"  # role changes, in the same audit log
    NEWS = "news"  # a news item's review: published, dismissed or applied (key: its id)
    FEED = "feed"  # a feed added or removed (key: its URL's id)


class NewsState(StrEnum):
    """Where a matched news item is in the editors' review."""

    NEW = "new"  # matched, not yet reviewed
    PUBLISHED = "published"  # an editor sent it to the subscribers who follow its topics
    DISMISSED = "dismissed"  # an editor judged it not worth telling readers
    APPLIED = "applied"  # an editor updated a record from it (readers see it, no alert)


class NewsScope(StrEnum):
    """Which news a subscriber's digest carries."""

    PUBLISHED = "published"  # items editors published (or applied)
    MATCHED = "matched"  # every matched item editors have not dismissed


# Rows of the audit log that are no record's history: roles, news reviews, the feed list. They
# stay out of digests, the ticker, exports and undo; a news item carries its review itself.
AUDIT_ONLY: tuple[RecordType, ...] = (RecordType.ADMIN, RecordType.NEWS, RecordType.FEED)
# The record types whose history the history views and datasets carry.
HISTORY_RECORD_TYPES: tuple[RecordType, ...] = tuple(
    kind for kind in RecordType if kind not in AUDIT_ONLY
)


class Frequency(StrEnum):
    WEEKLY = "weekly"
    DAILY = "daily"
    OFF = "off"


class DeliveryKind(StrEnum):
    DIGEST = "digest"
    ALERT = "alert"


class DeliveryState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    BLOCKED = "blocked"
    FAILED = "failed"


class Role(StrEnum):
    OWNER = "owner"
    EDITOR = "editor"


class Actor:
    """Who made a change when it was not a Telegram user (whose id is stored instead)."""

    SEED = "seed"
    IMPORT = "import"
    CLI = "cli"

    @staticmethod
    def telegram(user_id: int) -> str:
        return f"tg:{user_id}"


class Language(StrEnum):
    """The languages the bot reads questions in and (with its catalogs) answers in."""

    EN = "en"
    HI = "hi"

    @classmethod
    def from_code(cls, code: str | None) -> Language | None:
        """The language of a Telegram `language_code` (an IETF tag such as "hi", "hi-IN" or
        "en-GB", any case, "_" accepted for "-"); None for a language the bot does not have.

        Only the primary subtag counts: a region ("hi-IN") or script changes nothing the bot
        says. A malformed code is simply unknown, never an error."""
        if not code:
            return None
        primary = code.strip().replace("_", "-").partition("-")[0].lower()
        try:
            return cls(primary)
        except ValueError:
            return None
