"""Data scopes: OR within a dimension, AND across, deny by default, intersected with filters."""

from __future__ import annotations

import pytest

from datasource.scope import Scope, ScopeError, parse_scope_terms


def test_restrict_intersects_filters_with_the_scope():
    scope = Scope.of([("production_line", "Line A"), ("production_line", "Line B"), ("owner", "Li")])
    assert scope.restrict({}) == {"production_line": ("Line A", "Line B"), "owner": "Li"}
    assert scope.restrict({"production_line": "Line A"}) == {"production_line": "Line A", "owner": "Li"}
    # a filter outside the scope gives no value at all, never the filter's rows
    assert scope.restrict({"production_line": "Line C"})["production_line"] == ()
    assert scope.restrict({"customer": "ACME"}) == {
        "customer": "ACME", "production_line": ("Line A", "Line B"), "owner": "Li"}


def test_no_scope_holds_nothing_and_everything_holds_all():
    assert Scope().is_nothing and Scope().restrict({"owner": "Li"}) == {"owner": "Li", "production_line": ()}
    assert not Scope().holds({"production_line": "Line A"})
    assert Scope.everything().restrict({"owner": "Li"}) == {"owner": "Li"}
    assert Scope.everything().holds({})


def test_holds_ands_dimensions():
    scope = parse_scope_terms(['line="Line A"', "owner=Li", "owner=Wang"])
    assert scope.holds({"production_line": "Line A", "owner": "Wang"})
    assert not scope.holds({"production_line": "Line A", "owner": "Zhao"})
    assert not scope.holds({"production_line": "Line B", "owner": "Li"})


def test_fingerprints_differ_by_scope_and_not_by_order_of_terms():
    a = parse_scope_terms(["line=Line A", "owner=Li"])
    b = parse_scope_terms(["owner=Li", "line=Line A"])
    assert a.fingerprint() == b.fingerprint()
    assert a.fingerprint() != parse_scope_terms(["line=Line A"]).fingerprint()
    assert {Scope().fingerprint(), Scope.everything().fingerprint()} == {"none", "all"}


@pytest.mark.parametrize("term", ["line", "colour=red", "line=", "=x"])
def test_bad_terms_are_refused_with_the_term(term):
    with pytest.raises(ScopeError, match="scope"):
        parse_scope_terms([term])
