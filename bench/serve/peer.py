"""The usual Python way to serve the same model: FastAPI + uvicorn + a scikit-learn pipeline
(standardise numbers, one-hot categories, L2 logistic regression) trained on the same history."""
import os
import sys

import pandas as pd
from fastapi import FastAPI
from pydantic import BaseModel
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

NUMERIC = ["age", "income", "tenure_months", "products", "days_since_purchase", "web_visits"]
CATEGORICAL = ["channel", "region"]

history = pd.read_csv(os.environ["MLOPS_BENCH_HISTORY"])
model = Pipeline([
    ("encode", ColumnTransformer([("num", StandardScaler(), NUMERIC),
                                  ("cat", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL)])),
    ("fit", LogisticRegression(C=1.0, max_iter=200)),
]).fit(history[NUMERIC + CATEGORICAL], history["bought"])

app = FastAPI()


class Row(BaseModel):
    entity_id: str | None = None
    features: dict


@app.post("/v1/models/propensity/predict")
def predict(row: Row):
    score = float(model.predict_proba(pd.DataFrame([row.features]))[0, 1])
    return {"model": "propensity", "version": 1, "score": score, "entity_id": row.entity_id}
