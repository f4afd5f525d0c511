import Foundation

/// The files below a folder, as sorted relative paths: what an artifact listing and a model
/// registration both need.
public enum FolderFiles {
    /// Nil when the folder does not exist. `skippingHidden` leaves out files whose name starts
    /// with a dot (temporary copies on their way into place).
    public static func list(_ folder: String, skippingHidden: Bool = false) -> [String]? {
        guard let enumerator = FileManager.default.enumerator(atPath: folder) else { return nil }
        var files: [String] = []
        while let path = enumerator.nextObject() as? String {
            if skippingHidden, (path as NSString).lastPathComponent.hasPrefix(".") { continue }
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: "\(folder)/\(path)", isDirectory: &isDirectory), !isDirectory.boolValue {
                files.append(path)
            }
        }
        return files.sorted()
    }
}
