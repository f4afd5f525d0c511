import Foundation

/// One schema change, written once in SQL that both backends read: SQLite runs it as written,
/// PostgreSQL runs it as `SchemaDialect.postgresql` renders it (BIGINT, DOUBLE PRECISION, identity
/// columns, text in the C collation). Never edit one that shipped; add the next.
package struct Migration: Sendable {
    package let identifier: String
    let sql: String
    /// Values for the `?` in `sql`, read when the migration runs.
    var arguments: @Sendable () -> [SQLValue] = { [] }
}

extension Migration {
    /// Every migration, in order.
    package static let all: [Migration] = [
        Migration(identifier: "v1: tracking, orchestration, leases, audit", sql: """
            CREATE TABLE experiments (
                experiment_id INTEGER PRIMARY KEY AUTOINCREMENT,
                name TEXT NOT NULL UNIQUE,
                artifact_location TEXT,
                lifecycle_stage TEXT NOT NULL DEFAULT 'active',
                creation_time INTEGER,
                last_update_time INTEGER
            );
            CREATE TABLE experiment_tags (
                experiment_id INTEGER NOT NULL REFERENCES experiments(experiment_id) ON DELETE CASCADE,
                key TEXT NOT NULL,
                value TEXT,
                PRIMARY KEY (experiment_id, key)
            );
            CREATE TABLE runs (
                run_uuid TEXT PRIMARY KEY,
                experiment_id INTEGER NOT NULL REFERENCES experiments(experiment_id),
                name TEXT,
                status TEXT NOT NULL,
                start_time INTEGER,
                end_time INTEGER,
                lifecycle_stage TEXT NOT NULL DEFAULT 'active',
                artifact_uri TEXT,
                user_id TEXT,
                parent_run_id TEXT REFERENCES runs(run_uuid),
                kind TEXT NOT NULL DEFAULT 'run',
                job TEXT,
                stage TEXT,
                attempt INTEGER,
                trigger TEXT,
                outcome TEXT,
                exit_code INTEGER,
                message TEXT,
                pid INTEGER,
                pid_start_time INTEGER,
                boot_id TEXT,
                host TEXT,
                heartbeat_time INTEGER,
                spec_sha256 TEXT,
                git_commit TEXT
            );
            CREATE INDEX runs_by_kind_start ON runs(kind, start_time DESC);
            CREATE INDEX runs_by_parent ON runs(parent_run_id);
            CREATE INDEX runs_running ON runs(status) WHERE status = 'RUNNING';
            CREATE TABLE params (
                run_uuid TEXT NOT NULL REFERENCES runs(run_uuid) ON DELETE CASCADE,
                key TEXT NOT NULL,
                value TEXT NOT NULL,
                PRIMARY KEY (run_uuid, key)
            );
            CREATE INDEX params_by_key ON params(key, value);
            CREATE TABLE tags (
                run_uuid TEXT NOT NULL REFERENCES runs(run_uuid) ON DELETE CASCADE,
                key TEXT NOT NULL,
                value TEXT,
                PRIMARY KEY (run_uuid, key)
            );
            CREATE INDEX tags_by_key ON tags(key, value);
            -- Clustered by run, key and step: one B-tree serves both inserts and history reads.
            -- The key is MLflow's (an identical point logged twice is kept once).
            CREATE TABLE metrics (
                run_uuid TEXT NOT NULL REFERENCES runs(run_uuid) ON DELETE CASCADE,
                key TEXT NOT NULL,
                value REAL NOT NULL,
                timestamp INTEGER NOT NULL,
                step INTEGER NOT NULL DEFAULT 0,
                is_nan INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (run_uuid, key, step, timestamp, value, is_nan)
            ) WITHOUT ROWID;
            CREATE TABLE latest_metrics (
                run_uuid TEXT NOT NULL REFERENCES runs(run_uuid) ON DELETE CASCADE,
                key TEXT NOT NULL,
                value REAL NOT NULL,
                timestamp INTEGER NOT NULL,
                step INTEGER NOT NULL DEFAULT 0,
                is_nan INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (run_uuid, key)
            );
            CREATE INDEX latest_metrics_by_key ON latest_metrics(key, value);
            CREATE TABLE leases (
                job TEXT PRIMARY KEY,
                run_uuid TEXT NOT NULL,
                pid INTEGER NOT NULL,
                pid_start_time INTEGER,
                boot_id TEXT,
                host TEXT,
                acquired_time INTEGER NOT NULL,
                heartbeat_time INTEGER NOT NULL
            );
            CREATE TABLE audit_log (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                time INTEGER NOT NULL,
                actor TEXT NOT NULL,
                entity_type TEXT NOT NULL,
                entity_id TEXT NOT NULL,
                action TEXT NOT NULL,
                from_state TEXT,
                to_state TEXT,
                detail TEXT
            );
            CREATE INDEX audit_by_entity ON audit_log(entity_type, entity_id, time)
            """),
        Migration(identifier: "v2: model registry, predictions", sql: """
            CREATE TABLE registered_models (
                name TEXT PRIMARY KEY,
                description TEXT,
                creation_time INTEGER NOT NULL,
                last_updated_time INTEGER NOT NULL
            );
            CREATE TABLE model_versions (
                name TEXT NOT NULL REFERENCES registered_models(name) ON UPDATE CASCADE,
                version INTEGER NOT NULL,
                status TEXT NOT NULL,
                source_run_id TEXT,
                source TEXT,
                storage_location TEXT NOT NULL,
                sha256 TEXT,
                files TEXT,
                description TEXT,
                creation_time INTEGER NOT NULL,
                last_updated_time INTEGER NOT NULL,
                PRIMARY KEY (name, version)
            );
            CREATE TABLE model_version_tags (
                name TEXT NOT NULL,
                version INTEGER NOT NULL,
                key TEXT NOT NULL,
                value TEXT,
                PRIMARY KEY (name, version, key),
                FOREIGN KEY (name, version) REFERENCES model_versions(name, version) ON UPDATE CASCADE
            );
            CREATE TABLE registered_model_aliases (
                name TEXT NOT NULL REFERENCES registered_models(name) ON UPDATE CASCADE,
                alias TEXT NOT NULL,
                version INTEGER NOT NULL,
                PRIMARY KEY (name, alias)
            );
            -- One row per scored entity; outcomes arrive later and join on (entity_id, period)
            -- or on the prediction id.
            CREATE TABLE predictions (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                run_uuid TEXT NOT NULL,
                model_name TEXT NOT NULL,
                model_version INTEGER NOT NULL,
                entity_id TEXT NOT NULL,
                period INTEGER,
                score REAL NOT NULL,
                contacted INTEGER NOT NULL,
                holdout INTEGER NOT NULL,
                created_time INTEGER NOT NULL
            );
            CREATE INDEX predictions_by_entity ON predictions(entity_id, period);
            CREATE INDEX predictions_by_model ON predictions(model_name, model_version, period);
            CREATE INDEX predictions_by_run ON predictions(run_uuid)
            """),
        Migration(identifier: "v3: rollouts, outcomes", sql: """
            -- A rollout of one candidate version of a model; at most one in flight per model.
            CREATE TABLE rollouts (
                id TEXT PRIMARY KEY,
                model_name TEXT NOT NULL REFERENCES registered_models(name) ON UPDATE CASCADE,
                candidate_version INTEGER NOT NULL,
                stable_version INTEGER,
                strategy TEXT NOT NULL,
                plan TEXT NOT NULL,
                state TEXT NOT NULL,
                step INTEGER NOT NULL DEFAULT 0,
                reason TEXT,
                weight INTEGER NOT NULL DEFAULT 0,
                job_run_id TEXT,
                started_time INTEGER NOT NULL,
                step_started_time INTEGER NOT NULL,
                bake_started_time INTEGER,
                promoted_time INTEGER,
                previous_until INTEGER,
                finished_time INTEGER,
                analysis TEXT,
                updated_time INTEGER NOT NULL
            );
            CREATE UNIQUE INDEX one_rollout_in_flight ON rollouts(model_name)
                WHERE state IN ('pending', 'progressing', 'paused');
            CREATE INDEX rollouts_by_model ON rollouts(model_name, started_time);
            CREATE TABLE rollout_events (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                rollout_id TEXT NOT NULL REFERENCES rollouts(id),
                time INTEGER NOT NULL,
                actor TEXT NOT NULL,
                event TEXT NOT NULL,
                from_state TEXT,
                to_state TEXT NOT NULL,
                step INTEGER,
                weight INTEGER NOT NULL,
                detail TEXT
            );
            CREATE INDEX rollout_events_by_rollout ON rollout_events(rollout_id, id);
            -- What happened after a prediction: its label, observed at observed_time (a label
            -- is mature, and counts in an analysis, once that time has passed).
            CREATE TABLE outcomes (
                prediction_id INTEGER PRIMARY KEY REFERENCES predictions(id),
                label INTEGER NOT NULL,
                observed_time INTEGER NOT NULL,
                recorded_time INTEGER NOT NULL
            );
            ALTER TABLE predictions ADD COLUMN rollout_id TEXT;
            CREATE INDEX predictions_by_version_time ON predictions(model_name, model_version, created_time)
            """),
        Migration(identifier: "v4: notification outbox", sql: """
            -- Events to announce, written in the transaction of the change they announce, and
            -- delivered afterwards by whichever mlops process comes next (run, serve, rollouts).
            CREATE TABLE notifications (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                time INTEGER NOT NULL,
                event TEXT NOT NULL,
                job TEXT,
                model TEXT,
                summary TEXT NOT NULL,
                payload TEXT NOT NULL,
                state TEXT NOT NULL DEFAULT 'pending',
                attempts INTEGER NOT NULL DEFAULT 0,
                next_attempt_time INTEGER NOT NULL,
                delivered_to TEXT NOT NULL DEFAULT '[]',
                last_error TEXT
            );
            CREATE INDEX notifications_pending ON notifications(state, next_attempt_time)
            """),
        Migration(identifier: "v5: monitor state", sql: """
            -- Where each monitor stands: the version it watches, its anchored baseline, how many
            -- consecutive evaluations found a significant drop, and its last evaluation.
            CREATE TABLE monitor_state (
                monitor TEXT PRIMARY KEY,
                model_name TEXT NOT NULL,
                model_version INTEGER,
                baseline REAL,
                baseline_source TEXT,
                anchored_time INTEGER,
                breaches INTEGER NOT NULL DEFAULT 0,
                last_evaluation TEXT,
                last_trigger_time INTEGER,
                updated_time INTEGER NOT NULL
            )
            """),
        Migration(identifier: "v6: scheduler, triggers, drift", sql: """
            -- One row per schedule fire: its primary key is what stops two daemons on one store
            -- from starting the same fire twice. status: started, skipped, queued, missed.
            CREATE TABLE schedule_fires (
                job TEXT NOT NULL,
                fire_time INTEGER NOT NULL,
                status TEXT NOT NULL,
                run_uuid TEXT,
                daemon TEXT NOT NULL,
                claimed_time INTEGER NOT NULL,
                detail TEXT,
                PRIMARY KEY (job, fire_time)
            );
            CREATE INDEX schedule_fires_queued ON schedule_fires(status, fire_time);
            -- Each scheduler daemon that ran on this store, with its heartbeat.
            CREATE TABLE scheduler_daemons (
                id TEXT PRIMARY KEY,
                pid INTEGER NOT NULL,
                pid_start_time INTEGER,
                boot_id TEXT,
                host TEXT NOT NULL,
                started_time INTEGER NOT NULL,
                heartbeat_time INTEGER NOT NULL,
                stopped_time INTEGER,
                status TEXT NOT NULL
            );
            -- The last retrain a monitor asked for, and what became of it; the sequential
            -- (CUSUM) statistic and the newest outcome an evaluation counted.
            ALTER TABLE monitor_state ADD COLUMN last_trigger_run TEXT;
            ALTER TABLE monitor_state ADD COLUMN last_trigger_reason TEXT;
            ALTER TABLE monitor_state ADD COLUMN last_decision TEXT;
            ALTER TABLE monitor_state ADD COLUMN cusum REAL NOT NULL DEFAULT 0;
            ALTER TABLE monitor_state ADD COLUMN cusum_outcome_id INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE monitor_state ADD COLUMN last_outcome_time INTEGER;
            -- Each scored batch's features against the scoring model's training reference.
            CREATE TABLE feature_drift (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                model_name TEXT NOT NULL,
                model_version INTEGER NOT NULL,
                period INTEGER,
                run_uuid TEXT,
                computed_time INTEGER NOT NULL,
                drift_share REAL NOT NULL,
                report TEXT NOT NULL
            );
            CREATE INDEX feature_drift_model ON feature_drift(model_name, computed_time)
            """),
        // How often a fire's run was resumed after its runner died, so a stage that kills its
        // runner every time (out of memory) is not resumed for ever.
        Migration(identifier: "v7: fire resumes, prediction indexes", sql: """
            ALTER TABLE schedule_fires ADD COLUMN resumes INTEGER NOT NULL DEFAULT 0;
            -- The predictions a hit rate counts (MatureOutcomes): a tenth of the scored base, so
            -- monitors and analyses read those instead of every prediction of the version.
            CREATE INDEX predictions_contacted ON predictions(model_name, model_version) WHERE contacted = 1 AND holdout = 0;
            -- The outcomes stage looks up which scored periods still wait for labels.
            CREATE INDEX predictions_by_period ON predictions(model_name, period);
            -- An outcomes stage reports what it recorded in this pass.
            CREATE INDEX outcomes_by_recorded_time ON outcomes(recorded_time)
            """),
        // MLflow's client logs to experiment "0", named Default, when none is chosen.
        Migration(identifier: "v8: MLflow API: default experiment, run inputs and outputs", sql: """
            INSERT OR IGNORE INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time)
            SELECT 0, 'Default', 'mlflow-artifacts:/0', 'active', ?, ? WHERE NOT EXISTS (SELECT 1 FROM experiments WHERE name = 'Default');
            -- `log_inputs`: the datasets (and models) a run read, with their context tags.
            CREATE TABLE run_inputs (
                run_uuid TEXT NOT NULL REFERENCES runs(run_uuid) ON DELETE CASCADE,
                kind TEXT NOT NULL,
                name TEXT NOT NULL,
                digest TEXT NOT NULL,
                body TEXT NOT NULL,
                PRIMARY KEY (run_uuid, kind, name, digest)
            );
            -- `log_outputs`: the logged models a run produced, by step.
            CREATE TABLE run_outputs (
                run_uuid TEXT NOT NULL REFERENCES runs(run_uuid) ON DELETE CASCADE,
                model_id TEXT NOT NULL,
                step INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (run_uuid, model_id, step)
            )
            """, arguments: { let now = WallClock.process.nowMillis(); return [.integer(now), .integer(now)] }),
        Migration(identifier: "v9: MLflow registry fields", sql: """
            CREATE TABLE registered_model_tags (
                name TEXT NOT NULL REFERENCES registered_models(name) ON UPDATE CASCADE ON DELETE CASCADE,
                key TEXT NOT NULL,
                value TEXT,
                PRIMARY KEY (name, key)
            );
            -- MLflow's deprecated stages (None, Staging, Production, Archived), kept for its
            -- clients; mlops itself routes by aliases.
            ALTER TABLE model_versions ADD COLUMN current_stage TEXT NOT NULL DEFAULT 'None';
            ALTER TABLE model_versions ADD COLUMN run_link TEXT
            """),
        // A model a run logged (`mlflow.<flavor>.log_model`), before and apart from any
        // registered version: its files live under its experiment's artifact location.
        Migration(identifier: "v10: MLflow 3 logged models", sql: """
            CREATE TABLE logged_models (
                model_id TEXT PRIMARY KEY,
                experiment_id INTEGER NOT NULL REFERENCES experiments(experiment_id),
                name TEXT NOT NULL,
                artifact_location TEXT NOT NULL,
                creation_time INTEGER NOT NULL,
                last_update_time INTEGER NOT NULL,
                status TEXT NOT NULL DEFAULT 'LOGGED_MODEL_PENDING',
                status_message TEXT,
                lifecycle_stage TEXT NOT NULL DEFAULT 'active',
                model_type TEXT,
                source_run_id TEXT
            );
            CREATE INDEX logged_models_by_experiment ON logged_models(experiment_id, creation_time DESC);
            CREATE TABLE logged_model_params (
                model_id TEXT NOT NULL REFERENCES logged_models(model_id) ON DELETE CASCADE,
                key TEXT NOT NULL,
                value TEXT NOT NULL,
                PRIMARY KEY (model_id, key)
            );
            CREATE TABLE logged_model_tags (
                model_id TEXT NOT NULL REFERENCES logged_models(model_id) ON DELETE CASCADE,
                key TEXT NOT NULL,
                value TEXT,
                PRIMARY KEY (model_id, key)
            );
            -- Metrics a run logged against the model (`log_metric(..., model_id=)`), with the
            -- dataset they were measured on. MLflow's key: one point per model, key, step,
            -- time and run.
            CREATE TABLE logged_model_metrics (
                model_id TEXT NOT NULL REFERENCES logged_models(model_id) ON DELETE CASCADE,
                key TEXT NOT NULL,
                value REAL NOT NULL,
                is_nan INTEGER NOT NULL DEFAULT 0,
                timestamp INTEGER NOT NULL,
                step INTEGER NOT NULL DEFAULT 0,
                run_uuid TEXT NOT NULL DEFAULT '',
                dataset_name TEXT,
                dataset_digest TEXT,
                PRIMARY KEY (model_id, key, step, timestamp, run_uuid)
            ) WITHOUT ROWID;
            -- The logged model a registered version was made from.
            ALTER TABLE model_versions ADD COLUMN model_id TEXT
            """),
        // MLflow's clients search within experiments; without it a search reads every run of
        // the store, job and stage runs included.
        Migration(identifier: "v11: runs by experiment", sql: """
            CREATE INDEX runs_by_experiment ON runs(experiment_id, start_time DESC)
            """),
        // A stage attempt on another executor (a Ray job) is named by its id there; a local
        // process keeps its pid, start time and boot id in their own columns.
        Migration(identifier: "v12: attempts on other executors", sql: """
            ALTER TABLE runs ADD COLUMN executor TEXT;
            ALTER TABLE runs ADD COLUMN executor_handle TEXT
            """),
    ]
}
