"""The replay page's outputs from checked inputs (dashboard.replay_page): the
player's steps at the window's ends, an area kept with the same times."""

from __future__ import annotations

from dashboard import replay_page
from dashboard.layout import replay as layout

NO = replay_page.NO


def test_a_tick_moves_by_speed_and_stops_at_the_end() -> None:
    step_s = 10 * layout.PLAY_EVERY_MS / 1000
    assert replay_page.player_step("tick", 5.0, 600.0, 10, True) == (
        5.0 + step_s,
        False,
        "❚❚ Pause",
    )
    assert replay_page.player_step("tick", 599.9, 600.0, 10, True) == (600.0, True, "▶ Play")


def test_play_at_the_end_starts_again_and_back_stops_at_zero() -> None:
    assert replay_page.player_step("play", 600.0, 600.0, 1, False) == (0.0, False, "❚❚ Pause")
    assert replay_page.player_step("back", 3.0, 600.0, 1, False) == (0.0, True, "▶ Play")
    assert replay_page.player_step("jump", 3.0, 600.0, 1, False, 900.0) == (600.0, True, "▶ Play")
    assert replay_page.player_step(None, 3.0, 600.0, 1, True) == (NO, NO, NO)


def test_a_new_area_keeps_the_times_and_the_moment() -> None:
    before = {"start": "a", "end": "b", "incident_id": None, "area": None}
    window, *rest = replay_page.area_changed(before, [1.0, 2.0, 3.0, 4.0])
    assert window == {**before, "area": [1.0, 2.0, 3.0, 4.0], "same_times": True}
    assert rest == [NO] * 5
    assert replay_page.area_changed(None, None) == (NO,) * 6
