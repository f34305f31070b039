"""tomli 1.2.3's fix: RFC 3339 allows a lower case "t" and "z" in a datetime."""

import datetime

import tomli


def test_lower_case_t_and_z_parse_as_an_offset_datetime():
    parsed = tomli.loads("when = 1979-05-27t07:32:00z")
    assert parsed["when"] == datetime.datetime(1979, 5, 27, 7, 32, tzinfo=datetime.timezone.utc)
