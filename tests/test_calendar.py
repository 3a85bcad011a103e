"""The working-day calendar (工作日) at its edges: National Day, 春节 with its 调休 Saturday,
deadlines set on a holiday, years the library does not know, and the administrator's overrides."""
from __future__ import annotations

import logging
from datetime import date

import pytest

from engine.bpmn import calendar


@pytest.fixture
def overrides_file(tmp_path, monkeypatch):
    """Point the calendar at a temporary overrides file; `write(text)` replaces its content."""
    path = tmp_path / "calendar-overrides.toml"
    monkeypatch.setenv(calendar.OVERRIDES_ENV, str(path))
    calendar.reload()

    def write(text: str):
        path.write_text(text, encoding="utf-8")
        calendar.reload()
        return path
    yield write
    monkeypatch.delenv(calendar.OVERRIDES_ENV)
    calendar.reload()


def test_a_reply_the_day_before_national_day_is_answered_after_the_holiday():
    # 9-30 reply; 10-1…10-7 off; 10-8, 10-9 working; 10-10 is the 调休 Saturday
    assert calendar.add_workdays(date(2026, 9, 30), 3) == date(2026, 10, 10)
    assert calendar.is_workday(date(2026, 10, 10)) and date(2026, 10, 10).weekday() == 5


def test_a_deadline_crossing_spring_festival_skips_the_holiday_and_counts_its_调休_saturday():
    # 2026 春节: 2-15…2-23 off; Saturday 2-14 and Saturday 2-28 are working days
    assert calendar.is_workday(date(2026, 2, 14))
    assert not any(calendar.is_workday(date(2026, 2, d)) for d in range(15, 24))
    assert calendar.add_workdays(date(2026, 2, 13), 1) == date(2026, 2, 14)
    assert calendar.add_workdays(date(2026, 2, 13), 2) == date(2026, 2, 24)
    assert calendar.add_workdays(date(2026, 2, 24), 4) == date(2026, 2, 28)


def test_a_deadline_set_on_a_holiday_counts_from_the_first_working_day_after_it():
    assert not calendar.is_workday(date(2026, 10, 3))
    assert calendar.add_workdays(date(2026, 10, 3), 1) == date(2026, 10, 8)
    assert calendar.add_workdays(date(2026, 10, 3), 0) == date(2026, 10, 3)


def test_ordinary_weekends_are_off_and_weekdays_are_working_days():
    assert calendar.add_workdays(date(2026, 11, 20), 1) == date(2026, 11, 23)  # Friday → Monday
    with pytest.raises(ValueError):
        calendar.add_workdays(date(2026, 11, 20), -1)


def test_a_year_the_library_does_not_cover_is_warned_about_not_silently_assumed(overrides_file, caplog):
    overrides_file("")
    assert calendar.coverage_warning(2026) is None
    warning = calendar.coverage_warning(2027)
    assert warning and "2027" in warning and "尚未录入" in warning
    with caplog.at_level(logging.WARNING, logger="engine.bpmn.calendar"):
        calendar.is_workday(date(2027, 3, 1))
        calendar.is_workday(date(2027, 3, 2))
    assert len([r for r in caplog.records if "2027" in r.getMessage()]) == 1


def test_overrides_add_days_off_and_调休_workdays_and_take_precedence(overrides_file):
    overrides_file('covered_years = [2027]\n[days_off]\n2027-02-08 = "春节"\n'
                   '[workdays]\n"2027-02-06" = "春节调休上班"\n2026-10-03 = "假设的加班日"\n')
    assert not calendar.is_workday(date(2027, 2, 8))      # a Monday made a day off
    assert calendar.is_workday(date(2027, 2, 6))          # a Saturday made a working day
    assert calendar.is_workday(date(2026, 10, 3))         # overrides beat the library
    assert calendar.coverage_warning(2027) is None


@pytest.mark.parametrize("text, message", [
    ("covered_years = 2027", "covered_years"),
    ("[days_off]\n2027-13-01 = \"x\"", "2027-13-01"),
    ("[holidays]\n", "holidays"),
    ("[days_off]\n2027-02-08 = \"x\"\n[workdays]\n2027-02-08 = \"y\"", "2027-02-08"),
    ("covered_years = [", "TOML"),
])
def test_a_broken_overrides_file_names_the_entry(overrides_file, text, message):
    overrides_file(text)
    with pytest.raises(calendar.CalendarFileInvalid) as err:
        calendar.is_workday(date(2027, 1, 4))
    assert message in str(err.value)


def test_the_shipped_overrides_file_is_valid():
    shipped = calendar.DEFAULT_OVERRIDES.read_text(encoding="utf-8")
    assert calendar.parse_overrides(shipped) == calendar.Overrides()
