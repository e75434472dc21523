"""Stage cards: the wall's and the overview's card of one stage agree on its colour."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from dashboard.components.stage_card import manager_card, wall_card
from dashboard.url_state import ViewState
from metrics.catalog import CATALOG, STAGE_COLOUR

ROW = {"code": "produced", "label_zh": "生产", "label_en": "Produced", "wip": 40, "median_h": 30.0,
       "sla_hours": 48.0, "open_breaches_now": 10, "is_bottleneck": False, "delayed_orders": 3,
       "breaches": 12, "open_share_over_sla": 0.25, "breach_rate": 0.1}


def row(**changes) -> SimpleNamespace:
    """One row of ``Summary.stages`` with the columns the cards read."""
    return SimpleNamespace(**{**ROW, **changes})


@pytest.mark.parametrize("stage", [row(), row(open_breaches_now=0, open_share_over_sla=0.0, is_bottleneck=True)])
def test_both_cards_carry_the_catalog_level(stage):
    level = f"ob-level-{CATALOG[STAGE_COLOUR].level(CATALOG[STAGE_COLOUR].read_stage(stage))}"
    wall = wall_card(stage, CATALOG, "en", "/stages/produced?lang=en")
    desk = manager_card(stage, CATALOG, "en", ViewState(line="Line A", lang="en"))
    assert level in wall.className.split() and level in desk.className.split()
    assert ("ob-flow-stage--bottleneck" in wall.className) == stage.is_bottleneck
    assert ("ob-mstage--bottleneck" in desk.className) == stage.is_bottleneck


def test_the_overview_card_links_carry_the_scope_and_count_their_rows():
    desk = manager_card(row(), CATALOG, "en", ViewState(days=30, line="Line A", stage="produced", lang="en"))
    assert "ob-mstage--focus" in desk.className
    wip = desk.children[1]
    assert wip.children.href == "/stages/produced?days=30&line=Line+A&view=wip&lang=en"
    assert [s.to_plotly_json()["props"]["data-count"] for s in desk.children[3].children] == ["10", "3", "12"]
