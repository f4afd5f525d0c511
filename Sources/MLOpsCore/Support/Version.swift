/// The version `mlops --version` prints.
public enum MLOpsVersion {
    public static let current = "0.1.0"
}
