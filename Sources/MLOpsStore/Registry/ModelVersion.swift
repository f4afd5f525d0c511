import Foundation

/// One immutable version of a registered model: its files under `registry/NAME/VERSION/`, their
/// checksums, and the run that produced it.
public struct ModelVersion: Sendable, Hashable, Codable, RowDecodable {
    /// MLflow's version states.
    public enum Status: String, Sendable, Codable {
        case pendingRegistration = "PENDING_REGISTRATION"
        case failedRegistration = "FAILED_REGISTRATION"
        case ready = "READY"
    }

    public struct File: Sendable, Hashable, Codable {
        public var path: String
        public var sha256: String
        public var size: Int

        public init(path: String, sha256: String, size: Int) {
            self.path = path
            self.sha256 = sha256
            self.size = size
        }
    }

    public var name: String
    public var version: Int
    public var status: Status
    public var sourceRunID: String?
    public var source: String?
    public var storageLocation: String
    /// sha256 over the sorted `path sha256` lines of every file.
    public var sha256: String?
    public var files: [File]
    public var creationTime: Int64

    package enum CodingKeys: String, CodingKey {
        case name, version, status, sourceRunID = "source_run_id", source, storageLocation = "storage_location"
        case sha256, files, creationTime = "creation_time"
    }

    public init(row: Row) throws {
        name = row["name"]
        version = row["version"]
        status = Status(rawValue: row["status"]) ?? .failedRegistration
        sourceRunID = row["source_run_id"]
        source = row["source"]
        storageLocation = row["storage_location"]
        sha256 = row["sha256"]
        let filesText: String? = row["files"]
        files = filesText.flatMap { try? JSONDecoder().decode([File].self, from: Data($0.utf8)) } ?? []
        creationTime = row["creation_time"]
    }

    package init(name: String, version: Int, status: Status, sourceRunID: String?, source: String?, storageLocation: String,
         sha256: String?, files: [File], creationTime: Int64) {
        self.name = name
        self.version = version
        self.status = status
        self.sourceRunID = sourceRunID
        self.source = source
        self.storageLocation = storageLocation
        self.sha256 = sha256
        self.files = files
        self.creationTime = creationTime
    }

    public var reference: String { "\(name)/\(version)" }
}
