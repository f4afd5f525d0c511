import Foundation
import Synchronization

/// A working directory as Ray takes it over REST: a zip with no top folder, named
/// `_ray_pkg_<content hash>.zip`, uploaded to the head's package store before the submission.
/// Entries are stored, not deflated: Ray unpacks either, and the upload is on a fast network.
enum RayPackage {
    struct TooLarge: Error, CustomStringConvertible {
        var folder: String
        var bytes: Int
        var files: Int
        var description: String {
            "working_dir \(folder) holds more than \(files > maxFiles ? "\(maxFiles) files" : "\(maxBytes >> 20) MiB"), the most a package may; put data on storage the cluster shares"
        }
    }

    static let maxBytes = 256 << 20
    static let maxFiles = 65_535
    /// Package names by folder and fingerprint: every attempt and shard of a stage ships the same
    /// folder, which is zipped once while it does not change.
    static let names = Mutex<[String: (fingerprint: String, name: String)]>([:])

    /// Uploads the folder as a package unless the head has it already; returns its `gcs://` URI.
    static func upload(folder: String, with client: RayJobsClient, retrying: (() async throws(RayJobsClient.Failure) -> Void) async throws(RayJobsClient.Failure) -> Void) async throws -> String {
        let fingerprint = try fingerprint(folder)
        if let known = names.withLock({ $0[folder] }), known.fingerprint == fingerprint, await client.hasPackage(known.name) {
            return "gcs://\(known.name)"
        }
        let package = try make(folder: folder)
        if await !client.hasPackage(package.name) {
            try await retrying { () async throws(RayJobsClient.Failure) in try await client.upload(package: package.name, zip: package.zip) }
        }
        names.withLock { $0[folder] = (fingerprint, package.name) }
        return "gcs://\(package.name)"
    }

    /// The folder's files, sizes and modification times, without reading them.
    static func fingerprint(_ folder: String) throws -> String {
        var parts: [String] = []
        try walk(folder) { path, info in parts.append("\(path):\(info.st_size):\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)") }
        return parts.joined(separator: "|")
    }

    /// Calls `visit` for each regular file under `folder`, in name order, with its stat.
    static func walk(_ folder: String, _ visit: (String, stat) throws -> Void) throws {
        func walk(_ relative: String) throws {
            let full = relative.isEmpty ? folder : "\(folder)/\(relative)"
            for name in try FileManager.default.contentsOfDirectory(atPath: full).sorted() where !skipped.contains(name) {
                let path = relative.isEmpty ? name : "\(relative)/\(name)"
                var info = stat()
                guard lstat("\(folder)/\(path)", &info) == 0 else { continue }
                switch info.st_mode & S_IFMT {
                case S_IFDIR: try walk(path)
                case S_IFREG: try visit(path, info)
                default: continue
                }
            }
        }
        try walk("")
    }
    /// Folders that are never the job's business.
    static let skipped: Set<String> = [".git", ".build", ".venv", ".venv-ray", ".venv-mlflow", "__pycache__", ".swiftpm"]

    /// The package's name and bytes.
    static func make(folder: String) throws -> (name: String, zip: [UInt8]) {
        var entries: [(path: String, mode: UInt32, data: [UInt8])] = []
        var total = 0
        try walk(folder) { path, info in
            let data = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(folder)/\(path)")))
            total += data.count
            if total > maxBytes || entries.count >= maxFiles { throw TooLarge(folder: folder, bytes: total, files: entries.count + 1) }
            entries.append((path, UInt32(info.st_mode & 0o777), data))
        }
        let zip = ZipWriter.stored(entries)
        return ("_ray_pkg_\(SHA256Digest.hex(of: Data(zip)).prefix(32)).zip", zip)
    }
}

/// A zip of stored (uncompressed) entries, with their Unix modes, so scripts stay executable.
enum ZipWriter {
    static func stored(_ entries: [(path: String, mode: UInt32, data: [UInt8])]) -> [UInt8] {
        var out: [UInt8] = []
        var central: [UInt8] = []
        func u16(_ v: Int, _ into: inout [UInt8]) { into += [UInt8(v & 0xff), UInt8((v >> 8) & 0xff)] }
        func u32(_ v: UInt32, _ into: inout [UInt8]) { for shift in stride(from: 0, to: 32, by: 8) { into.append(UInt8((v >> UInt32(shift)) & 0xff)) } }
        // 1980-01-01 00:00, the zip epoch: the bytes depend on the content only, so the name does too.
        let date = (0 << 9) | (1 << 5) | 1
        for entry in entries {
            let name = Array(entry.path.utf8)
            let crc = crc32(entry.data)
            let offset = UInt32(out.count)
            u32(0x0403_4b50, &out); u16(20, &out); u16(0x0800, &out); u16(0, &out); u16(0, &out); u16(date, &out)
            u32(crc, &out); u32(UInt32(entry.data.count), &out); u32(UInt32(entry.data.count), &out)
            u16(name.count, &out); u16(0, &out); out += name; out += entry.data
            u32(0x0201_4b50, &central); u16((3 << 8) | 20, &central); u16(20, &central); u16(0x0800, &central); u16(0, &central)
            u16(0, &central); u16(date, &central); u32(crc, &central); u32(UInt32(entry.data.count), &central)
            u32(UInt32(entry.data.count), &central); u16(name.count, &central); u16(0, &central); u16(0, &central)
            u16(0, &central); u16(0, &central); u32((0o100000 | entry.mode) << 16, &central); u32(offset, &central); central += name
        }
        let centralOffset = UInt32(out.count)
        out += central
        u32(0x0605_4b50, &out); u16(0, &out); u16(0, &out); u16(entries.count, &out); u16(entries.count, &out)
        u32(UInt32(central.count), &out); u32(centralOffset, &out); u16(0, &out)
        return out
    }

    static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for byte in bytes { c = table[Int((c ^ UInt32(byte)) & 0xff)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }
}
