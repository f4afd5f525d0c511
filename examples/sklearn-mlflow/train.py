"""A training script as data scientists write it: scikit-learn, logged with mlflow. Run as an mlops
command stage it needs no change: mlops gives it MLFLOW_TRACKING_URI and MLFLOW_RUN_ID, so
`mlflow.start_run()` continues the stage's own run and `mlops runs show` lists what it logged."""
import mlflow
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

X, y = make_classification(n_samples=4000, n_features=12, n_informative=8, class_sep=1.5, random_state=7)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=7)

with mlflow.start_run():
    C = 0.5
    mlflow.log_param("C", C)
    model = LogisticRegression(C=C, max_iter=500).fit(X_train, y_train)
    auc = roc_auc_score(y_test, model.predict_proba(X_test)[:, 1])
    mlflow.log_metric("auc", auc)
    for step, c in enumerate([0.01, 0.1, 1.0, 10.0]):
        score = roc_auc_score(y_test, LogisticRegression(C=c, max_iter=500).fit(X_train, y_train).predict_proba(X_test)[:, 1])
        mlflow.log_metric("auc_by_C", score, step=step)
    # MLflow 3's logged model: its files and params, kept by the mlops store under models:/m-….
    info = mlflow.sklearn.log_model(model, name="model", input_example=X_test[:2])
    print(f"auc {auc:.4f} model {info.model_uri}")
