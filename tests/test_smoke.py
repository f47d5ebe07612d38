"""The sample case from the demo runs end to end."""

from tuko_flow import Engine, ManualClock, replay
from tuko_flow._demo import run_sample_case


def test_sample_case_ends_in_a_new_cycle(engine: Engine, clock: ManualClock) -> None:
    """The demo's case closes, is restarted, and its replay equals the live state."""
    case = run_sample_case(engine, clock)
    assert case.state == "stage1_notice"
    assert case.cycle.number == 2
    assert case.past_cycles[0].closure is not None
    assert replay(engine.history(case.case_id)) == case
