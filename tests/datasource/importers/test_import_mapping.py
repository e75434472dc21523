"""Mapping files: what a valid one yields, and one clear line for each mistake."""

from pathlib import Path

import pytest

from datasource.importers.errors import ImportSetupError
from datasource.importers.mapping import Mapping, load_mapping, parse_mapping
from datasource.pipeline import default_pipeline

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
PIPELINE = default_pipeline()


def test_olist_example_mapping():
    m = load_mapping(EXAMPLES / "olist" / "mapping.toml", PIPELINE)
    assert m == Mapping(
        shape="milestones",
        columns={"order_number": "order_id", "customer": "customer_id",
                 "status": "order_status", "promised": "order_estimated_delivery_date"},
        timezone="America/Sao_Paulo",
        promised_is_date=True,
        source="olist_orders_dataset.csv",
        milestones={"placed": "order_purchase_timestamp", "reviewed": "order_approved_at",
                    "shipped": "order_delivered_carrier_date",
                    "received": "order_delivered_customer_date"},
        constants={"channel": "online"},
        cancelled_values=frozenset({"canceled", "unavailable"}),
        completed_values=frozenset({"delivered"}),
    )
    assert m.required_columns == [
        "order_id", "customer_id", "order_status", "order_estimated_delivery_date",
        "order_purchase_timestamp", "order_approved_at", "order_delivered_carrier_date",
        "order_delivered_customer_date",
    ]


def test_milestones_keep_the_mapping_order_never_the_pipeline_order():
    # The order milestones tied in time keep is the source's, not the pipeline file's.
    m = parse_mapping({"shape": "milestones", "columns": {"order_number": "no"},
                       "milestones": {"received": "r", "placed": "p", "shipped": "s"}}, PIPELINE)
    assert list(m.milestones) == ["received", "placed", "shipped"]


def test_event_log_example_mapping_maps_floor_names_case_insensitively():
    m = load_mapping(EXAMPLES / "eventlog" / "mapping.toml", PIPELINE)
    assert m.shape == "events"
    assert m.stages["质检"] == "inspected"
    assert m.event_types["取消"] == "cancel"


@pytest.mark.parametrize("data, message", [
    ({"shape": "wide"}, "shape must be one of events, milestones, not 'wide'"),
    ({"shape": "events", "colums": {}}, "unknown key(s) colums"),
    ({"shape": "events", "columns": {"order_number": "a", "timestamp": "t"}},
     '[columns] needs stage for shape = "events"'),
    ({"shape": "milestones", "columns": {"order_number": "a"}},
     "[milestones] must map at least one stage to a column"),
    ({"shape": "milestones", "columns": {"order_number": "a"}, "milestones": {"packed": "p"}},
     "stage(s) packed are not in the pipeline (placed, reviewed, paid, prepared, produced, "
     "inspected, shipped, in_transit, received, after_sales)"),
    ({"shape": "events", "columns": {"order_number": "a", "stage": "s", "timestamp": "t"},
      "stages": {"QC": "quality"}},
     "stage(s) quality are not in the pipeline (placed, reviewed, paid, prepared, produced, "
     "inspected, shipped, in_transit, received, after_sales)"),
    ({"shape": "events", "columns": {"order_number": "a", "stage": "s", "timestamp": "t"},
      "event_types": {"x": "start"}},
     "event type(s) start are not one of enter, complete, exception, resolve, note, cancel, skip"),
    ({"shape": "milestones", "columns": {"order_number": "a", "colour": "c"}, "milestones": {"placed": "p"}},
     "[columns] has unknown key(s) colour; allowed: amount, channel, customer, order_number, owner, "
     "priority, product_line, production_line, promised, quantity, status"),
    ({"shape": "milestones", "columns": {"order_number": "a"}, "milestones": {"placed": "p"},
      "timezone": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
    ({"shape": "milestones", "columns": {"order_number": "a", "channel": "c"},
      "milestones": {"placed": "p"}, "constants": {"channel": "online"}},
     "channel given both in [columns] and [constants]"),
    ({"shape": "milestones", "columns": {"order_number": "a"}, "milestones": {"placed": "p"},
      "status": {"cancelled": ["x"]}}, "[status] needs a status column in [columns]"),
])
def test_invalid_mappings_say_what_is_wrong(data, message):
    with pytest.raises(ImportSetupError) as exc:
        parse_mapping(data, PIPELINE)
    assert str(exc.value) == message


def test_mapping_file_errors_name_the_file(tmp_path):
    missing = tmp_path / "nope.toml"
    with pytest.raises(ImportSetupError, match=r"^mapping file .*nope\.toml does not exist$"):
        load_mapping(missing, PIPELINE)
    broken = tmp_path / "broken.toml"
    broken.write_text("shape = \n", encoding="utf-8")
    with pytest.raises(ImportSetupError, match=r"^mapping file .*broken\.toml is not valid TOML: "):
        load_mapping(broken, PIPELINE)
