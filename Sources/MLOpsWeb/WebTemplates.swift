import Foundation
import Mustache

/// The pages' templates, embedded in the binary (one binary, no files to install), parsed once.
/// Mustache escapes every `{{value}}` for HTML; only `{{{…}}}` is raw, and only SVG drawn here goes there.
struct WebTemplates: Sendable {
    let library: MustacheLibrary

    static let shared: WebTemplates = {
        var templates: [String: MustacheTemplate] = [:]
        for (name, bytes) in [("layout", PackageResources.layout_mustache), ("runs", PackageResources.runs_mustache),
                              ("run", PackageResources.run_mustache), ("models", PackageResources.models_mustache),
                              ("model", PackageResources.model_mustache), ("rollouts", PackageResources.rollouts_mustache),
                              ("rollout", PackageResources.rollout_mustache), ("monitors", PackageResources.monitors_mustache),
                              ("monitor", PackageResources.monitor_mustache), ("jobs", PackageResources.jobs_mustache),
                              ("compare", PackageResources.compare_mustache)] {
            // The templates are ours and tested: one that does not parse is a build defect.
            templates[name] = try? MustacheTemplate(string: String(decoding: bytes, as: UTF8.self))
        }
        return WebTemplates(library: MustacheLibrary(templates: templates))
    }()

    func render(_ page: String, _ context: [String: Any]) -> String {
        library.render(context, withTemplate: page) ?? "<!doctype html><p>page \(page) is missing from this build</p>"
    }
}
