import Foundation
import MLOpsCore

/// `/runs`: the runs table. `filter` and `order_by` take the CLI's grammar (a bad filter shows the
/// same caret message), `cols` adds `metrics.…`, `params.…` and `tags.…` columns, `kind` picks job
/// runs (the default), stage attempts, MLflow client runs or all, `limit` the page's size (50,
/// at most 500), and `after` is a keyset cursor: a page costs the same at any depth.
struct RunsPage {
    let view: WebView
    let query: [String: String]
    static let pageSize = 50

    init(view: WebView, query: some Sequence<(key: Substring, value: Substring)>) {
        self.view = view
        var values: [String: String] = [:]
        for (key, value) in query { values[String(key)] = String(value) }
        self.query = values
    }

    struct ColumnError: Error, CustomStringConvertible {
        var name: String
        var description: String { "'\(name)' is not a column: name one as metrics.KEY, params.KEY or tags.KEY, e.g. cols=metrics.auc,params.l2" }
    }

    /// One added column: where its value comes from.
    struct Column {
        var title: String
        var entity: RunFilter.Entity
        var key: String
    }

    func render() throws -> String {
        let filterText = query["filter"] ?? ""
        let orderText = query["order_by"] ?? ""
        let colsText = query["cols"] ?? ""
        let kindText = query["kind"] ?? "job"
        var context: [String: Any] = ["title": "Runs", "base": view.base, "nav": view.nav("Runs"),
                                      "filter": filterText, "orderBy": orderText, "cols": colsText]
        context["kinds"] = [("job", "job runs"), ("stage", "stage attempts"), ("run", "MLflow client runs"), ("all", "all runs")]
            .map { ["value": $0.0, "label": $0.1, "selected": $0.0 == kindText] }
        let limit = min(500, max(1, query["limit"].flatMap { Int($0) } ?? Self.pageSize))
        var search = RunSearch(kind: kindText == "all" ? nil : RunKind(rawValue: kindText) ?? .job, limit: limit)
        let columns: [Column]
        do {
            if !filterText.trimmingCharacters(in: .whitespaces).isEmpty { search.filter = try RunFilter(parsing: filterText) }
            if !orderText.trimmingCharacters(in: .whitespaces).isEmpty { search.orderBy = try RunSearch.OrderTerm.parseList(orderText) }
            columns = try Self.columns(colsText)
        } catch {
            context["error"] = "\(error)"
            context["columns"] = [String]()
            return view.templates.render("runs", context)
        }
        if let token = query["after"] { search.after = RunSearch.Cursor(token: token) }
        let (runs, cursors, cells) = try view.store.read { tx in
            let runs = try search.run(tx)
            return (runs, try search.cursors(tx, of: runs.suffix(1)), try Self.cells(tx, runs: runs, columns: columns))
        }
        context["columns"] = columns.map(\.title)
        context["rows"] = runs.map { run in
            ["id": run.id, "short": run.shortID, "name": run.name ?? "", "job": run.job ?? "", "status": run.status.rawValue,
             "trigger": run.trigger?.rawValue ?? "", "started": Formatting.timestamp(millis: run.startTime),
             "duration": Formatting.duration(millis: run.durationMillis), "cells": cells[run.id] ?? columns.map { _ in "" }] as [String: Any]
        }
        context["hasRows"] = !runs.isEmpty
        if runs.count == limit, let last = cursors.last { context["next"] = link(after: last.token) }
        if search.after != nil { context["first"] = link(after: nil) }
        return view.templates.render("runs", context)
    }

    /// This page's URL with another cursor: the rest of the state stays.
    func link(after token: String?) -> String {
        var items = [URLQueryItem]()
        for key in ["filter", "order_by", "cols", "kind", "limit"] { if let value = query[key], !value.isEmpty { items.append(URLQueryItem(name: key, value: value)) } }
        if let token { items.append(URLQueryItem(name: "after", value: token)) }
        var components = URLComponents()
        components.path = "\(view.base)/runs"
        components.queryItems = items.isEmpty ? nil : items
        return components.string ?? "\(view.base)/runs"
    }

    /// `metrics.auc,params.l2` → columns; the same prefixes as the filter.
    static func columns(_ text: String) throws -> [Column] {
        try text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.map { name in
            guard let dot = name.firstIndex(of: "."), let entity = RunFilter.entityNames[name[..<dot].lowercased()], entity != .attribute else {
                throw ColumnError(name: name)
            }
            return Column(title: name, entity: entity, key: String(name[name.index(after: dot)...]))
        }
    }

    /// The added columns' values, for every run of the page at once.
    static func cells(_ tx: StoreTransaction, runs: [RunRecord], columns: [Column]) throws -> [String: [String]] {
        guard !columns.isEmpty, !runs.isEmpty else { return [:] }
        let ids = runs.map(\.id)
        let metrics = columns.contains { $0.entity == .metric } ? try RunSearch.latestMetrics(tx, runIDs: ids) : [:]
        let params = columns.contains { $0.entity == .param } ? try Tracker.params(tx, of: ids) : [:]
        let tags = columns.contains { $0.entity == .tag } ? try Tracker.tags(tx, of: ids) : [:]
        var cells: [String: [String]] = [:]
        for id in ids {
            cells[id] = columns.map { column in
                switch column.entity {
                case .metric: return metrics[id]?.first { $0.key == column.key }.map { Formatting.number($0.value) } ?? ""
                case .param: return params[id]?[column.key] ?? ""
                case .tag: return tags[id]?[column.key] ?? ""
                case .attribute: return ""
                }
            }
        }
        return cells
    }
}
