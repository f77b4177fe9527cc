/// The version this binary reports (`sluice --version`, the API, OpenLineage's producer).
public enum SluiceVersion {
    public static let current = "0.1.0"
}
