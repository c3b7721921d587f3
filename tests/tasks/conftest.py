import pytest

from tasks.models import Campaign
from tasks.services.plans import import_plan

from .planfiles import CAMPAIGN, write_xlsx


@pytest.fixture
def published(city, tmp_path) -> Campaign:
    """The small test plan, published over the test city (12 assignments)."""
    opts = {k: CAMPAIGN[k] for k in ("name", "code", "start", "end", "owner")}
    import_plan(write_xlsx(tmp_path / "plan.xlsx"), publish=True, **opts)
    return Campaign.objects.get(code=CAMPAIGN["code"])
