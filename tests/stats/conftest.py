"""Fixtures of the statistics tests: the boards' (a campaign part-way done on TODAY, its catalogue of
indicators and rounds, statistics reported), which the boards' own tests share."""

from tests.boards.conftest import catalogue, mid_campaign, reported  # noqa: F401 (fixtures)
