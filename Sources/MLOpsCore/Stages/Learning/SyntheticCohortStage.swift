import MLOpsLearn

/// `uses: synthetic-cohort`: this week's customer base (`current.csv`), the labelled history
/// whose outcomes are known by now (`history.csv`, what training reads) and and, when they differ,
/// the same weeks' true outcomes (`outcomes.csv`, what the outcomes stage attaches), from the seeded generator. In
/// `corrupt_history_week` the training feed's labels are wrong (drawn from another concept) while
/// the true outcomes are not: a candidate that looks fine offline and fails on live outcomes.
struct SyntheticCohortStage: Stage {
    static let keys = ["customers", "seed", "week", "history_weeks", "base_rate", "concept_drift_week", "concept_drift_ramp_weeks",
                       "covariate_drift_week", "covariate_shift", "prior_shift_week", "prior_shift_base_rate", "label_delay_weeks",
                       "corrupt_history_week"]

    var with: [String: SpecValue]

    func run(_ context: StageContext, started: @Sendable (AttemptHandle) -> Void) async -> StageTermination {
        StageFiles.run {
            let w = StageSettings(stage: context.stage, with: with)
            var s = SyntheticCohort.Settings()
            s.customers = try w.int("customers", s.customers)
            s.seed = UInt64(truncatingIfNeeded: try w.int("seed", Int(s.seed)))
            s.baseRate = try w.double("base_rate", s.baseRate)
            s.conceptDriftWeek = try w.optionalInt("concept_drift_week")
            s.conceptDriftRampWeeks = try w.int("concept_drift_ramp_weeks", s.conceptDriftRampWeeks)
            s.covariateDriftWeek = try w.optionalInt("covariate_drift_week")
            s.covariateShift = try w.double("covariate_shift", s.covariateShift)
            s.priorShiftWeek = try w.optionalInt("prior_shift_week")
            s.priorShiftBaseRate = try w.double("prior_shift_base_rate", s.priorShiftBaseRate)
            s.labelDelayWeeks = try w.int("label_delay_weeks", s.labelDelayWeeks)
            let week = try w.int("week", 12)
            let historyWeeks = try w.int("history_weeks", 8)
            guard s.customers > 0 else { throw StageSettings.Failure(message: "\(context.stage): `customers` must be positive") }
            let cohort = SyntheticCohort(s)
            let last = cohort.lastLabelledWeek(asOf: week)
            guard last >= 1 else {
                throw StageSettings.Failure(message: "\(context.stage): at week \(week), with a label delay of \(s.labelDelayWeeks) weeks, no outcome is known yet; use a later `week`")
            }
            let labelled = max(1, last - historyWeeks + 1)...last
            let history = cohort.weeks(labelled)
            let corrupt = try w.optionalInt("corrupt_history_week") == week
            var current = Table()
            let thisWeek = cohort.week(week)
            for (name, column) in zip(thisWeek.names, thisWeek.columns) where name != SyntheticCohort.label {
                current.append(name, column)
            }
            try StageFiles.write(TableCSV.write(corrupt ? cohort.weeks(labelled, wrongConcept: true) : history), to: "history.csv", in: context)
            if corrupt { try StageFiles.write(TableCSV.write(history), to: "outcomes.csv", in: context) }
            try StageFiles.write(TableCSV.write(current), to: "current.csv", in: context)
            let positives = history.numeric(SyntheticCohort.label)!.reduce(0, +)
            try StageFiles.report(metrics: ["history_rows": Double(history.rowCount), "current_rows": Double(current.rowCount),
                                            "history_base_rate": positives / Double(max(1, history.rowCount))],
                                  in: context)
        }
    }
}
