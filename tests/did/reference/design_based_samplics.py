"""Reference for the design-based variance of ``did_2x2``: samplics ``SurveyGLM``.

Run in a separate environment (samplics is not a project dependency)::

    python -m venv /tmp/sampvenv && /tmp/sampvenv/bin/pip install samplics  # 0.6.1
    /tmp/sampvenv/bin/python tests/did/reference/design_based_samplics.py

It writes ``tests/data/survey_small.csv`` (a small stratified two-stage sample, no
single-PSU stratum because samplics has no "adjust" rule) and
``tests/did/reference/design_based_samplics.json`` (coefficients and Taylor SEs:
PSU score totals centred within strata, factor n_h/(n_h−1), no fpc).
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
from samplics import ModelType, SurveyGLM

HERE = Path(__file__).parent
rng = np.random.default_rng(7)
rows = []
for h, n_psu in enumerate([3, 2, 4]):
    for j in range(n_psu):
        treat = int((h + j) % 2 == 0)
        psu_effect = rng.normal(scale=0.5)
        for post in (0, 1):
            for _ in range(rng.integers(3, 7)):
                x = rng.normal()
                y = 1 + 0.5 * treat + 0.3 * post + 0.4 * treat * post + 0.2 * x
                rows.append(
                    {
                        "stratum": h,
                        "psu": j,
                        "treat": treat,
                        "post": post,
                        "x": round(x, 6),
                        "y": round(y + psu_effect + rng.normal(), 6),
                        "w": round(rng.uniform(0.5, 3.0), 6),
                    }
                )
frame = pd.DataFrame(rows)
frame.to_csv(HERE.parent.parent / "data" / "survey_small.csv", index=False)
frame["tp"] = frame["treat"] * frame["post"]
frame["psu_id"] = frame["stratum"] * 100 + frame["psu"]
glm = SurveyGLM(ModelType.LINEAR)
glm.estimate(
    y=frame["y"],
    x=frame[["treat", "post", "tp", "x"]].assign(const=1.0)[["const", "treat", "post", "tp", "x"]],
    samp_weight=frame["w"],
    stratum=frame["stratum"],
    psu=frame["psu_id"],
)
out = {
    "samplics": "0.6.1",
    "terms": ["const", "treat", "post", "treat:post", "x"],
    "estimate": [float(v) for v in glm.beta["point_est"]],
    "se": [float(v) for v in glm.beta["stderror"]],
}
(HERE / "design_based_samplics.json").write_text(json.dumps(out, indent=2) + "\n")
print(json.dumps(out, indent=2))
