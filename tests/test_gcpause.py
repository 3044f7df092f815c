"""The cyclic collector is paused while a template is built and packaged, and only then."""

from __future__ import annotations

import gc

import openpyxl
import pytest

from nichekpi import default_catalog
from nichekpi._gcpause import collector_paused
from nichekpi.workbook import build_workbook, package_bytes


def test_building_and_packaging_pause_the_collector_and_restore_it(monkeypatch):
    seen = []
    save = openpyxl.Workbook.save

    def watching_save(self, filename):
        seen.append(gc.isenabled())
        return save(self, filename)

    monkeypatch.setattr(openpyxl.Workbook, "save", watching_save)
    assert gc.isenabled()
    package_bytes(build_workbook(next(iter(default_catalog())), 2026))
    assert seen == [False]
    assert gc.isenabled()


def test_a_failure_restores_the_collector():
    with pytest.raises(ZeroDivisionError), collector_paused():
        assert not gc.isenabled()
        1 / 0  # noqa: B018
    assert gc.isenabled()


def test_a_pause_already_under_way_is_left_alone():
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the caller's pause goes on
    finally:
        gc.enable()
    with collector_paused(), collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
