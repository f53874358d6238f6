"""Cost and help paying, per option: plain data the options detail, questions and packet read.

Everything comes from the option file's ``logistics`` (``cost_patient``, ``list_price``,
``assistance_programs`` with their own ``last_reviewed``), so each item keeps its source.
A list price is shown only when a primary public source gives it, with its date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from myelonav.knowledge.loader import bundled_options
from myelonav.knowledge.schema import Option


@dataclass(frozen=True)
class HelpItem:
    name: str
    kind: str
    url: str | None
    notes: str | None
    last_reviewed: dt.date | None


@dataclass(frozen=True)
class CostHelp:
    option_id: str
    option_name: str
    what_to_expect: str | None
    hospital_stay: str
    where_given: str | None
    list_price: str | None
    help: list[HelpItem] = field(default_factory=list)
    last_reviewed: dt.date | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "option_id": self.option_id,
            "option_name": self.option_name,
            "what_to_expect": self.what_to_expect,
            "hospital_stay": self.hospital_stay,
            "where_given": self.where_given,
            "list_price": self.list_price,
            "help": [
                {
                    "name": h.name,
                    "kind": h.kind,
                    "url": h.url,
                    "notes": h.notes,
                    "last_reviewed": h.last_reviewed.isoformat() if h.last_reviewed else None,
                }
                for h in self.help
            ],
            "last_reviewed": self.last_reviewed.isoformat() if self.last_reviewed else None,
        }


def cost_help_for(option: Option) -> CostHelp:
    logistics = option.logistics
    price = logistics.list_price
    shown_price = (
        f"${price.amount_usd:,.0f} per {price.per} (list price, {price.source}, "
        f"{price.date.isoformat()})"
        if price
        else None
    )
    return CostHelp(
        option_id=option.id,
        option_name=option.name,
        what_to_expect=logistics.cost_patient,
        hospital_stay=logistics.hospital_stay,
        where_given=logistics.where_given,
        list_price=shown_price,
        help=[
            HelpItem(p.name, p.kind, p.url, p.notes, p.last_reviewed)
            for p in logistics.assistance_programs
        ],
        last_reviewed=option.last_reviewed,
    )


def cost_help(option_id: str, options: Mapping[str, Option] | None = None) -> CostHelp | None:
    """Cost and help for one option id, or None when the id is not a shipped option."""
    catalogue = options if options is not None else bundled_options()
    option = catalogue.get(option_id)
    return cost_help_for(option) if option is not None else None


__all__ = ["CostHelp", "HelpItem", "cost_help", "cost_help_for"]
