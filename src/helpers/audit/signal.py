"""Why a per-customer uplift ranking fails on a small world: per arm, the spread of the true
individual effect on conversion against the noise one past contact carries about it. A learner
ranks customers only when a tenth of the arm's rows pins a group's mean effect more finely than the
true effects differ from one customer to another."""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.data.dataset import Dataset
from helpers.decide import audience
from helpers.world import World
from helpers.world.truth import effect_column


def uplift_signal(world: World, data: Dataset) -> pd.DataFrame:
    """Per arm of the campaign history: rows, controls, the true effect on the chance of buying over
    today's buyers (mean and sd, percentage points), the sd of the transformed outcome y (w - e) /
    (e (1 - e)) whose mean is the effect (pp), the share of its variance the true effects explain,
    the standard error of the mean effect of a tenth of the rows (pp), and the rows the arm would
    need for that standard error to equal the true sd."""
    contacts = data.frame("contacts", ["campaign_id", "customer_id", "group", "responded"]).merge(
        data.frame("campaigns")[["campaign_id", "channel", "offer"]], on="campaign_id"
    )
    hidden = world.truth().set_index("customer_id").loc[audience.buyers(data).customer_id]
    rows = []
    for (channel, offer), group in contacts.groupby(["channel", "offer"], sort=True):
        w = (group.group == "treatment").to_numpy(float)
        y = group.responded.fillna(False).to_numpy(float)
        e = float(w.mean())
        noise = float(np.std(y * (w - e) / (e * (1 - e)), ddof=1))
        effect = hidden[effect_column(channel, offer)]
        rows.append(
            {
                "arm": f"{channel} · {offer}",
                "rows": len(group),
                "controls": int((w == 0).sum()),
                "true_effect_pp": round(100 * effect.mean(), 3),
                "true_effect_sd_pp": round(100 * effect.std(), 3),
                "noise_sd_pp": round(100 * noise, 1),
                "signal_share": float(effect.var() / noise**2),
                "decile_se_pp": round(100 * noise / np.sqrt(len(group) / 10), 2),
                "rows_needed": int(np.ceil(10 * (noise / effect.std()) ** 2)) if effect.std() > 0 else None,
            }
        )
    return pd.DataFrame(rows)
