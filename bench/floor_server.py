"""The floor under POST /score: FastAPI -> numpy row -> LightGBM Booster (TreeSHAP), nothing else.

    python bench/floor_server.py MODEL_TEXT PORT

Started by bench/service.py with the champion's trees as LightGBM model text (a LightGBM champion's
own Booster, or a forest rewritten by models.forest_booster). No key check, audit, validation or
reasons text: what is left is the least a one-pupil request can cost on this machine, measured in the
same run as the service so the two are compared under the same load.
"""

from __future__ import annotations

import sys
from pathlib import Path

import lightgbm
import numpy as np
import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel


class Row(BaseModel):
    values: list[float | None]  # None: a missing value (JSON has no NaN)


def make_app(model_text: str) -> FastAPI:
    booster = lightgbm.Booster(model_str=model_text)
    app = FastAPI()

    @app.post("/floor")
    async def floor(row: Row) -> dict[str, float]:
        values = [np.nan if v is None else v for v in row.values]
        X = np.asarray([values], dtype=np.float32).astype(np.float64)
        contributions = booster.predict(X, pred_contrib=True, num_threads=1)
        return {"raw_score": float(contributions.sum())}

    @app.get("/ready")
    async def ready() -> dict[str, str]:
        return {"status": "ready"}

    return app


if __name__ == "__main__":
    text, port = Path(sys.argv[1]).read_text(), int(sys.argv[2])
    uvicorn.run(make_app(text), host="127.0.0.1", port=port, log_level="warning", access_log=False)
