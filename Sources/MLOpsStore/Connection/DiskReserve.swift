import Foundation

/// Two megabytes kept aside beside the store, given back when the disk fills. Without it a
/// stage that fills the disk leaves no room for SQLite to record that the stage failed, and the
/// run stays RUNNING with nothing said; with it the store frees the reserve and records the
/// failure. (Operators keep a ballast file for the same reason; PostgreSQL reserves WAL segments.)
/// Made again when a store is next opened with room for it.
struct DiskReserve: Sendable {
    let path: String
    static let bytes: Int64 = 2 << 20

    init(besides storePath: String) {
        path = (storePath as NSString).deletingLastPathComponent + "/.mlops-disk-reserve"
    }

    /// Makes the reserve if it is missing and the disk has room; a stat when it is there.
    func ensure() {
        var info = stat()
        guard stat(path, &info) != 0 else { return }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        let allocated = posix_fallocate(fd, 0, off_t(Self.bytes)) == 0
        close(fd)
        if !allocated { unlink(path) }
    }

    /// Frees the reserve; whether there was one to free.
    func release() -> Bool {
        unlink(path) == 0
    }
}
