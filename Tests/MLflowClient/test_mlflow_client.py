"""The real `mlflow` client against a live `mlops server` (and `mlops run`), in a temporary workspace.

Run by scripts/test when MLFLOW_PYTHON names a Python with mlflow installed (.ci/run makes one):
    MLOPS_BIN=.build/debug/mlops python -m unittest Tests/MLflowClient/test_mlflow_client.py
"""
import json
import os
import uuid
import shutil
import subprocess
import tempfile
import time
import unittest

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException, RestException

HERE = os.path.dirname(os.path.abspath(__file__))
MLOPS = os.environ.get("MLOPS_BIN") or os.path.join(HERE, "..", "..", ".build", "debug", "mlops")


def fresh_store():
    """Under MLOPS_TEST_POSTGRES, a new database on that server (the suite then runs on PostgreSQL);
    otherwise None, and each workspace keeps its SQLite file."""
    server = os.environ.get("MLOPS_TEST_POSTGRES")
    if not server:
        return None
    name = "mlops_py_" + uuid.uuid4().hex[:12]
    subprocess.run(["psql", "-q", "-X", "-v", "ON_ERROR_STOP=1", server, "-c", "CREATE DATABASE " + name], check=True)
    base, _, query = server.partition("?")
    return base.rsplit("/", 1)[0] + "/" + name + ("?" + query if query else "")


STORE = fresh_store()


def mlops_env():
    """The environment a command of the suite runs in: none of the caller's MLOPS_ and MLFLOW_
    settings, and the suite's store."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLOPS_") and not k.startswith("MLFLOW_")}
    if STORE:
        env["MLOPS_TRACKING"] = STORE
    return env


class MLflowClientTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.workspace = tempfile.mkdtemp(prefix="mlops-mlflow-")
        env = mlops_env()
        cls.server = subprocess.Popen([MLOPS, "server", "--port", "0", "-C", cls.workspace],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        line = cls.server.stdout.readline()
        if "http://" not in line:
            raise RuntimeError("mlops server did not start: " + line + cls.server.stderr.read())
        cls.uri = line.strip().split(" ")[-1]
        mlflow.set_tracking_uri(cls.uri)
        cls.client = MlflowClient(cls.uri)

    @classmethod
    def tearDownClass(cls):
        cls.server.terminate()
        cls.server.wait(timeout=10)
        cls.server.stdout.close()
        cls.server.stderr.close()
        shutil.rmtree(cls.workspace, ignore_errors=True)

    def mlops(self, *args):
        out = subprocess.run([MLOPS, *args, "-C", self.workspace], capture_output=True, text=True, timeout=120, env=mlops_env())
        self.assertEqual(out.returncode, 0, out.stderr)
        return out.stdout

    # Experiments

    def test_experiments_create_get_rename_delete_restore_tags(self):
        eid = self.client.create_experiment("exp-life", tags={"team": "growth"})
        self.assertIsInstance(eid, str)
        exp = self.client.get_experiment_by_name("exp-life")
        self.assertEqual((exp.experiment_id, exp.tags["team"], exp.lifecycle_stage), (eid, "growth", "active"))
        self.client.rename_experiment(eid, "exp-life-2")
        self.assertEqual(self.client.get_experiment(eid).name, "exp-life-2")
        self.client.set_experiment_tag(eid, "stage", "dev")
        self.assertEqual(self.client.get_experiment(eid).tags["stage"], "dev")
        self.client.delete_experiment(eid)
        self.assertEqual(self.client.get_experiment(eid).lifecycle_stage, "deleted")
        names = [e.name for e in self.client.search_experiments()]
        self.assertNotIn("exp-life-2", names)
        self.client.restore_experiment(eid)
        found = self.client.search_experiments(filter_string="name = 'exp-life-2'")
        self.assertEqual([e.experiment_id for e in found], [eid])
        self.assertIsNone(self.client.get_experiment_by_name("no-such-experiment"))

    def test_duplicate_experiment_is_refused(self):
        self.client.create_experiment("dup")
        with self.assertRaises(RestException) as caught:
            self.client.create_experiment("dup")
        self.assertEqual(caught.exception.error_code, "RESOURCE_ALREADY_EXISTS")

    # Runs

    def test_params_metrics_over_steps_tags_and_history(self):
        mlflow.set_experiment("runs")
        with mlflow.start_run(run_name="steps") as run:
            mlflow.log_params({"lr": 0.1, "depth": 4})
            for step in range(5):
                mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
            mlflow.set_tag("team", "propensity")
        got = self.client.get_run(run.info.run_id)
        self.assertEqual(len(run.info.run_id), 32)
        self.assertEqual(got.info.status, "FINISHED")
        self.assertEqual(got.info.run_name, "steps")
        self.assertEqual(got.data.params, {"lr": "0.1", "depth": "4"})
        self.assertAlmostEqual(got.data.metrics["loss"], 0.2)
        self.assertEqual(got.data.tags["team"], "propensity")
        history = self.client.get_metric_history(run.info.run_id, "loss")
        self.assertEqual([m.step for m in history], [0, 1, 2, 3, 4])
        self.assertAlmostEqual(history[1].value, 0.5)
        self.client.delete_tag(run.info.run_id, "team")
        self.assertNotIn("team", self.client.get_run(run.info.run_id).data.tags)

    def test_log_batch_is_recorded_whole(self):
        exp = self.client.create_experiment("batch")
        run = self.client.create_run(exp)
        from mlflow.entities import Metric, Param, RunTag
        now = int(time.time() * 1000)
        metrics = [Metric("m", float(i), now, i) for i in range(1000)]
        self.client.log_batch(run.info.run_id, metrics=metrics, params=[Param("p", "1")], tags=[RunTag("t", "x")])
        self.assertEqual(len(self.client.get_metric_history(run.info.run_id, "m")), 1000)
        self.assertEqual(self.client.get_run(run.info.run_id).data.metrics["m"], 999.0)
        # The client splits long batches itself; the server's limit shows on the wire.
        import requests
        body = {"run_id": run.info.run_id, "metrics": [{"key": "x", "value": 1, "timestamp": now, "step": i} for i in range(1001)]}
        response = requests.post(self.uri + "/api/2.0/mlflow/runs/log-batch", json=body)
        self.assertEqual(response.status_code, 400)
        self.assertEqual(response.json()["error_code"], "INVALID_PARAMETER_VALUE")
        self.assertEqual(self.client.get_metric_history(run.info.run_id, "x"), [])  # nothing half-recorded

    def test_changed_param_and_missing_run_are_errors(self):
        exp = self.client.create_experiment("errors")
        run = self.client.create_run(exp)
        self.client.log_param(run.info.run_id, "k", "a")
        self.client.log_param(run.info.run_id, "k", "a")  # the same value again is fine
        with self.assertRaises(MlflowException) as caught:
            self.client.log_param(run.info.run_id, "k", "b")
        self.assertEqual(caught.exception.error_code, "INVALID_PARAMETER_VALUE")
        self.assertIn("Changing param values is not allowed", str(caught.exception))
        with self.assertRaises(MlflowException) as missing:
            self.client.get_run("0" * 32)
        self.assertEqual(missing.exception.error_code, "RESOURCE_DOES_NOT_EXIST")

    def test_deleted_run_is_hidden_then_restored(self):
        exp = self.client.create_experiment("lifecycle")
        run = self.client.create_run(exp)
        self.client.delete_run(run.info.run_id)
        self.assertEqual(self.client.search_runs([exp]), [])
        self.assertEqual(len(self.client.search_runs([exp], run_view_type=3)), 1)
        self.client.restore_run(run.info.run_id)
        self.assertEqual(len(self.client.search_runs([exp])), 1)

    def test_search_filters_orders_and_pages(self):
        exp = self.client.create_experiment("search")
        for i in range(25):
            run = self.client.create_run(exp, tags={"group": "even" if i % 2 == 0 else "odd"})
            self.client.log_metric(run.info.run_id, "auc", i / 100)
            self.client.log_param(run.info.run_id, "l2", str(i))
            self.client.set_terminated(run.info.run_id)
        runs = self.client.search_runs([exp], filter_string="metrics.auc >= 0.1 and tags.`group` = 'even'",
                                       order_by=["metrics.auc DESC"])
        self.assertEqual([r.data.metrics["auc"] for r in runs], [0.24, 0.22, 0.2, 0.18, 0.16, 0.14, 0.12, 0.1])
        first = self.client.search_runs([exp], order_by=["metrics.auc ASC"], max_results=10)
        self.assertEqual(len(first), 10)
        self.assertIsNotNone(first.token)
        second = self.client.search_runs([exp], order_by=["metrics.auc ASC"], max_results=10, page_token=first.token)
        third = self.client.search_runs([exp], order_by=["metrics.auc ASC"], max_results=10, page_token=second.token)
        seen = [r.data.metrics["auc"] for r in list(first) + list(second) + list(third)]
        self.assertEqual(seen, [i / 100 for i in range(25)])
        self.assertIsNone(third.token)
        found = mlflow.search_runs(experiment_ids=[exp], filter_string="params.l2 = '7'", output_format="list")
        self.assertEqual(len(found), 1)

    def test_bad_filter_is_an_invalid_parameter(self):
        exp = self.client.create_experiment("bad-filter")
        with self.assertRaises(MlflowException) as caught:
            self.client.search_runs([exp], filter_string="metrics.auc >>> 1")
        self.assertEqual(caught.exception.error_code, "INVALID_PARAMETER_VALUE")

    # Artifacts

    def test_artifacts_up_list_and_down(self):
        mlflow.set_experiment("artifacts")
        folder = tempfile.mkdtemp()
        with open(os.path.join(folder, "model.txt"), "w") as f:
            f.write("weights")
        os.makedirs(os.path.join(folder, "plots"))
        with open(os.path.join(folder, "plots", "roc.csv"), "w") as f:
            f.write("fpr,tpr\n0,0\n1,1\n")
        with mlflow.start_run() as run:
            mlflow.log_artifacts(folder)
            mlflow.log_text("hello", "notes/hello.txt")
        self.assertTrue(run.info.artifact_uri.startswith("mlflow-artifacts:/"))
        names = sorted(a.path for a in self.client.list_artifacts(run.info.run_id))
        self.assertEqual(names, ["model.txt", "notes", "plots"])
        self.assertEqual([a.path for a in self.client.list_artifacts(run.info.run_id, "plots")], ["plots/roc.csv"])
        out = mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path="plots/roc.csv", dst_path=tempfile.mkdtemp())
        with open(out) as f:
            self.assertEqual(f.read(), "fpr,tpr\n0,0\n1,1\n")
        self.assertEqual(mlflow.artifacts.load_text(run.info.artifact_uri + "/notes/hello.txt"), "hello")

    def test_artifact_paths_cannot_leave_the_root(self):
        import requests
        for path in ["../../etc/passwd", "..%2F..%2Fjobs.yaml", "a/../../b"]:
            response = requests.get(self.uri + "/api/2.0/mlflow-artifacts/artifacts/" + path)
            self.assertIn(response.status_code, (400, 404), path)
            self.assertNotIn("root:", response.text)
        response = requests.put(self.uri + "/api/2.0/mlflow-artifacts/artifacts/0/..%2F..%2F..%2Fescape.txt", data=b"x")
        self.assertEqual(response.status_code, 400)
        self.assertFalse(os.path.exists(os.path.join(self.workspace, "escape.txt")))

    def test_unknown_endpoint_answers_as_mlflow_does(self):
        import requests
        # Unknown paths, a prefix of real endpoints, and a real path with the wrong method.
        for method, path in [("GET", "mlflow/no-such/thing"), ("POST", "mlflow/runs"), ("PUT", "mlflow/runs/create"),
                             ("POST", "mlflow/logged-models/m-1/unknown")]:
            response = requests.request(method, self.uri + "/api/2.0/" + path)
            self.assertEqual(response.status_code, 404, (method, path))
            self.assertEqual(response.json()["error_code"], "ENDPOINT_NOT_FOUND", (method, path))
        info = requests.get(self.uri + "/api/3.0/mlflow/server-info").json()
        self.assertEqual(info["store_type"], "SqlStore")

    # The registry

    def test_register_alias_and_download_by_alias(self):
        mlflow.set_experiment("registry")
        folder = tempfile.mkdtemp()
        with open(os.path.join(folder, "MLmodel"), "w") as f:
            f.write("flavors: {}\n")
        with open(os.path.join(folder, "weights.bin"), "wb") as f:
            f.write(b"\x00\x01weights")
        with mlflow.start_run() as run:
            mlflow.log_artifacts(folder, "model")
        version = mlflow.register_model(f"runs:/{run.info.run_id}/model", "churn")
        self.assertEqual((version.name, version.version, version.status), ("churn", "1", "READY"))
        self.assertEqual(version.run_id, run.info.run_id)
        self.client.set_registered_model_alias("churn", "staging", "1")
        self.client.set_registered_model_tag("churn", "owner", "growth")
        by_alias = self.client.get_model_version_by_alias("churn", "staging")
        self.assertEqual(by_alias.version, "1")
        self.assertEqual(by_alias.aliases, ["staging"])
        out = mlflow.artifacts.download_artifacts("models:/churn@staging", dst_path=tempfile.mkdtemp())
        with open(os.path.join(out, "weights.bin"), "rb") as f:
            self.assertEqual(f.read(), b"\x00\x01weights")
        model = self.client.get_registered_model("churn")
        self.assertEqual(model.tags, {"owner": "growth"})
        self.assertEqual(model.aliases, {"staging": "1"})
        found = self.client.search_model_versions("name = 'churn'")
        self.assertEqual([v.version for v in found], ["1"])
        self.assertEqual([m.name for m in self.client.search_registered_models(filter_string="name LIKE 'chu%'")], ["churn"])
        # The same registry as mlops models, with its checksums.
        models = json.loads(self.mlops("models", "--json"))
        listed = models if isinstance(models, list) else models.get("models", [])
        self.assertIn("churn", json.dumps(listed))
        with self.assertRaises(MlflowException) as caught:
            self.client.get_model_version("churn", "9")
        self.assertEqual(caught.exception.error_code, "RESOURCE_DOES_NOT_EXIST")
        self.client.delete_registered_model_alias("churn", "staging")
        self.assertEqual(self.client.get_registered_model("churn").aliases, {})

    # MLflow 3's logged models

    def require_scikit_learn(self):
        """scikit-learn beside the client, as scripts/test installs it; a skip only when not required."""
        try:
            import sklearn  # noqa: F401
        except ImportError:
            if os.environ.get("MLOPS_REQUIRE_MLFLOW"):
                raise
            self.skipTest("scikit-learn is not installed beside the mlflow client")

    def test_log_model_register_and_load_with_scikit_learn(self):
        self.require_scikit_learn()
        import numpy as np
        from sklearn.linear_model import LogisticRegression
        rng = np.random.default_rng(7)
        X = rng.random((200, 3))
        y = (X[:, 0] + 0.2 * X[:, 1] > 0.6).astype(int)
        estimator = LogisticRegression(C=0.5).fit(X, y)
        eid = mlflow.set_experiment("logged-models").experiment_id
        import pandas as pd
        train = mlflow.data.from_pandas(pd.DataFrame(X, columns=["a", "b", "c"]).assign(y=y), name="train", targets="y")
        with mlflow.start_run() as run:
            mlflow.log_param("C", 0.5)
            mlflow.log_input(train, context="training")
            mlflow.log_metric("auc", 0.93)
            info = mlflow.sklearn.log_model(estimator, name="model", input_example=X[:2])
            mlflow.log_metric("holdout_auc", 0.91, model_id=info.model_id, dataset=None)
        run_id = run.info.run_id
        self.assertTrue(info.model_id.startswith("m-"), info.model_id)

        logged = self.client.get_logged_model(info.model_id)
        self.assertEqual((logged.name, logged.source_run_id, logged.status.name, logged.experiment_id),
                         ("model", run_id, "READY", eid))
        self.assertEqual(logged.params.get("C"), "0.5")
        self.assertEqual(sorted(m.key for m in logged.metrics), ["auc", "holdout_auc"])
        self.assertEqual(self.client.get_run(run_id).outputs.model_outputs[0].model_id, info.model_id)
        # The dataset the run read, with its context, as logged.
        (dataset_input,) = self.client.search_runs([eid], f"attributes.run_id = '{run_id}'")[0].inputs.dataset_inputs
        self.assertEqual((dataset_input.dataset.name, dataset_input.dataset.digest), ("train", train.digest))
        self.assertEqual({t.key: t.value for t in dataset_input.tags}.get("mlflow.data.context"), "training")
        # log_model re-logs the run's metrics against the model; the run keeps one point.
        self.assertEqual(len(self.client.get_metric_history(run_id, "auc")), 1)
        files = [f.path for f in self.client.list_logged_model_artifacts(info.model_id)]
        self.assertIn("MLmodel", files)

        version = mlflow.register_model(info.model_uri, "propensity-sk")
        self.assertEqual((version.version, version.source, version.run_id), ("1", info.model_uri, run_id))
        loaded = mlflow.sklearn.load_model("models:/propensity-sk/1")
        self.assertEqual(loaded.predict(X[:20]).tolist(), estimator.predict(X[:20]).tolist())
        # runs:/RUN/model finds the logged model by name, as MLflow 3 does.
        again = mlflow.register_model(f"runs:/{run_id}/model", "propensity-sk")
        self.assertEqual((again.version, again.source), ("2", info.model_uri))
        registrations = json.loads(self.client.get_logged_model(info.model_id).tags["mlflow.modelVersions"])
        self.assertEqual(registrations, [{"name": "propensity-sk", "version": "1"}, {"name": "propensity-sk", "version": "2"}])
        self.assertIn("propensity-sk", self.mlops("models"))

        found = self.client.search_logged_models([eid], filter_string="metrics.holdout_auc > 0.9 AND params.C = '0.5'")
        self.assertEqual([m.model_id for m in found], [info.model_id])
        self.assertEqual(list(self.client.search_logged_models([eid], filter_string="metrics.holdout_auc > 0.95")), [])
        with self.assertRaises(MlflowException) as caught:
            self.client.search_logged_models([eid], filter_string="metrics.auc >>> 1")
        self.assertEqual(caught.exception.error_code, "INVALID_PARAMETER_VALUE")

    def test_sklearn_autolog_of_a_grid_search(self):
        self.require_scikit_learn()
        import numpy as np
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import GridSearchCV
        rng = np.random.default_rng(11)
        X = rng.random((150, 3))
        y = (X[:, 0] > 0.5).astype(int)
        mlflow.set_experiment("autolog")
        mlflow.sklearn.autolog(log_models=True, silent=True)
        try:
            with mlflow.start_run() as run:
                GridSearchCV(LogisticRegression(), {"C": [0.1, 1.0]}, cv=3).fit(X, y)
        finally:
            mlflow.sklearn.autolog(disable=True)
        parent = self.client.get_run(run.info.run_id)
        self.assertIn("best_C", parent.data.params)
        self.assertIn("training_roc_auc", parent.data.metrics)
        self.assertEqual(len(parent.outputs.model_outputs), 2)  # the search and its best estimator
        children = self.client.search_runs([parent.info.experiment_id], f"tags.mlflow.parentRunId = '{run.info.run_id}'")
        self.assertEqual(sorted(c.data.params["C"] for c in children), ["0.1", "1.0"])

    def test_logged_model_lifecycle_tags_params_and_errors(self):
        eid = self.client.create_experiment("logged-lifecycle")
        first = self.client.create_logged_model(eid, name="first", params={"depth": "3"}, tags={"team": "growth"})
        second = self.client.create_logged_model(eid, name="second", model_type="agent")
        self.assertEqual(first.status.name, "PENDING")
        self.assertTrue(first.artifact_location.endswith(f"/models/{first.model_id}/artifacts"), first.artifact_location)
        self.client.set_logged_model_tags(first.model_id, {"stage": "dev"})
        self.client.delete_logged_model_tag(first.model_id, "team")
        self.assertEqual(self.client.get_logged_model(first.model_id).tags, {"stage": "dev"})
        with self.assertRaises(MlflowException) as caught:
            self.client.delete_logged_model_tag(first.model_id, "team")
        self.assertEqual(caught.exception.error_code, "RESOURCE_DOES_NOT_EXIST")
        from mlflow.entities import LoggedModelStatus
        self.assertEqual(self.client.finalize_logged_model(first.model_id, LoggedModelStatus.READY).status.name, "READY")
        newest_first = [m.name for m in self.client.search_logged_models([eid])]
        self.assertEqual(newest_first, ["second", "first"])
        by_name = self.client.search_logged_models([eid], order_by=[{"field_name": "name", "ascending": True}], max_results=1)
        self.assertEqual([m.name for m in by_name], ["first"])
        self.assertIsNotNone(by_name.token)
        rest = self.client.search_logged_models([eid], order_by=[{"field_name": "name", "ascending": True}], page_token=by_name.token)
        self.assertEqual([m.name for m in rest], ["second"])
        self.assertEqual([m.name for m in self.client.search_logged_models([eid], filter_string="model_type = 'agent'")], ["second"])
        self.assertEqual([m.name for m in self.client.search_logged_models([eid], filter_string="status = 'READY'")], ["first"])
        # As MLflow's SQL join: != matches a model that has the tag with another value, not one without it.
        self.assertEqual([m.name for m in self.client.search_logged_models([eid], filter_string="tags.stage != 'prod'")], ["first"])
        self.client.delete_logged_model(second.model_id)
        self.assertEqual([m.name for m in self.client.search_logged_models([eid])], ["first"])
        with self.assertRaises(MlflowException) as caught:
            self.client.get_logged_model(second.model_id)
        self.assertEqual(caught.exception.error_code, "RESOURCE_DOES_NOT_EXIST")
        with self.assertRaises(MlflowException) as caught:
            self.client.create_logged_model("424242", name="orphan")
        self.assertEqual(caught.exception.error_code, "RESOURCE_DOES_NOT_EXIST")

    def test_a_version_in_a_rollout_is_not_deleted_or_re_aliased_through_the_client(self):
        with open(os.path.join(self.workspace, "jobs.yaml"), "w") as f:
            f.write("version: 1\njobs:\n  weekly:\n    params: { week: 8 }\n    stages:\n"
                    "      ingest: { uses: synthetic-cohort, with: { customers: 400, week: '${params.week}', history_weeks: 2 } }\n"
                    "      train: { needs: [ingest], uses: logistic-regression }\n"
                    "      deploy: { needs: [train], uses: deploy, with: { model: guarded, strategy: canary,"
                    " steps: [ { set_weight: 30 }, { pause: {} } ] } }\n")
        self.mlops("run", "weekly", "-q")
        self.mlops("run", "weekly", "--param", "week=9", "-q")
        for call in (lambda: self.client.delete_model_version("guarded", "2"),
                     lambda: self.client.delete_model_version("guarded", "1"),
                     lambda: self.client.set_registered_model_alias("guarded", "champion", "2"),
                     lambda: self.client.delete_registered_model_alias("guarded", "challenger"),
                     lambda: self.client.delete_registered_model("guarded")):
            with self.assertRaises(MlflowException) as caught:
                call()
            self.assertEqual(caught.exception.error_code, "INVALID_PARAMETER_VALUE")
            self.assertIn("mlops abort guarded", caught.exception.message)
        model = self.client.get_registered_model("guarded")
        self.assertEqual(model.aliases, {"champion": "1", "challenger": "2"})
        rollout = json.loads(self.mlops("rollouts", "show", "guarded", "--json"))
        self.assertEqual((rollout["state"], rollout["weight"]), ("paused", 30))
        # Once the rollout is aborted, the candidate can go.
        self.mlops("abort", "guarded")
        self.client.delete_model_version("guarded", "2")
        self.assertEqual([v.version for v in self.client.search_model_versions("name = 'guarded'")], ["1"])

    def test_a_server_with_a_token_takes_the_client_with_mlflow_tracking_token(self):
        token_file = os.path.join(self.workspace, "token")
        with open(token_file, "w") as f:
            f.write("client-token\n")
        env = mlops_env()
        server = subprocess.Popen([MLOPS, "server", "--port", "0", "--token-file", token_file, "-C", self.workspace],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        try:
            uri = server.stdout.readline().strip().split(" ")[-1]
            with self.assertRaises(MlflowException):
                MlflowClient(uri).search_experiments()
            os.environ["MLFLOW_TRACKING_TOKEN"] = "client-token"
            try:
                client = MlflowClient(uri)
                run = client.create_run(client.create_experiment("with-a-token"))
                client.log_metric(run.info.run_id, "auc", 0.9)
                self.assertEqual(client.get_run(run.info.run_id).data.metrics["auc"], 0.9)
            finally:
                del os.environ["MLFLOW_TRACKING_TOKEN"]
        finally:
            server.terminate()
            server.wait(timeout=10)
            server.stdout.close()
            server.stderr.close()

    def test_duplicate_registered_model_is_refused(self):
        self.client.create_registered_model("dup-model")
        with self.assertRaises(MlflowException) as caught:
            self.client.create_registered_model("dup-model")
        self.assertEqual(caught.exception.error_code, "RESOURCE_ALREADY_EXISTS")

    # One history: what the client writes, mlops shows, and the reverse

    def test_client_runs_show_in_mlops_runs(self):
        mlflow.set_experiment("shared")
        with mlflow.start_run(run_name="from-client") as run:
            mlflow.log_metric("auc", 0.77)
        listed = json.loads(self.mlops("runs", "--kind", "run", "--json", "--limit", "100"))
        mine = [r for r in listed if r["run_id"] == run.info.run_id]
        self.assertEqual(len(mine), 1)
        self.assertEqual(mine[0]["status"], "FINISHED")
        shown = json.loads(self.mlops("runs", "show", run.info.run_id, "--json"))
        self.assertAlmostEqual(shown["metrics"]["auc"], 0.77)

    def test_a_stage_script_continues_its_stage_run_and_the_client_sees_the_job(self):
        script = os.path.join(self.workspace, "train.py")
        with open(script, "w") as f:
            f.write("import mlflow\n"
                    "with mlflow.start_run() as run:\n"
                    "    mlflow.log_param('alpha', 0.5)\n"
                    "    mlflow.log_metric('rmse', 0.25)\n"
                    "    mlflow.log_metric('r2', 0.9)\n"
                    "    mlflow.create_external_model(name='scorer')\n"
                    "    print('RUN', run.info.run_id)\n")
        import sys
        with open(os.path.join(self.workspace, "jobs.yaml"), "w") as f:
            f.write("version: 1\njobs:\n  train:\n    stages:\n"
                    f"      fit: {{ run: '{sys.executable} train.py' }}\n"
                    "      gate: { needs: [fit], uses: gate, with: { rules: [ { metric: r2, min: 0.8 } ] } }\n")
        self.mlops("run", "train", "-q")
        job = json.loads(self.mlops("runs", "--json"))[0]
        shown = json.loads(self.mlops("runs", "show", job["run_id"], "--json"))
        stage = next(s for s in shown["stages"] if s["stage"] == "fit")
        self.assertEqual(stage["status"], "FINISHED")
        # The gate judged what the script logged through the API.
        gate = next(s for s in shown["stages"] if s["stage"] == "gate")
        self.assertEqual(gate["metrics"]["gate_passed"], 1)
        self.assertEqual(stage["params"].get("alpha"), "0.5")
        self.assertAlmostEqual(stage["metrics"]["rmse"], 0.25)
        # The model the script logged is the stage's, in JSON and in the table.
        (model,) = stage["logged_models"]
        self.assertEqual((model["name"], model["status"]), ("scorer", "READY"))
        self.assertEqual(self.client.get_logged_model(model["model_id"]).source_run_id, stage["run_id"])
        self.assertIn(f"scorer models:/{model['model_id']} (READY)", self.mlops("runs", "show", job["run_id"]))
        # And the client reads what mlops recorded: the job run with its rolled-up metric.
        got = self.client.get_run(job["run_id"])
        self.assertEqual(got.info.status, "FINISHED")
        found = self.client.search_runs([got.info.experiment_id], filter_string="metrics.rmse < 0.3")
        self.assertIn(stage["run_id"], [r.info.run_id for r in found])


if __name__ == "__main__":
    unittest.main()
