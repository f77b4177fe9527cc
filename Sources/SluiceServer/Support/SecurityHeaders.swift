import HTTPTypes

/// Headers of the pages Sluice serves itself: a Content-Security-Policy, no framing by other sites (clickjacking),
/// no sniffing of types, no referrer.
enum SecurityHeaders {
    /// The web UI's policy: its own script and stylesheet (the graph sets inline style attributes), its API and event stream.
    static let interface = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'self'"

    static func page(policy: String) -> HTTPFields {
        [
            .contentSecurityPolicy: policy + "; frame-ancestors 'none'", HTTPField.Name("X-Frame-Options")!: "DENY",
            HTTPField.Name("X-Content-Type-Options")!: "nosniff", HTTPField.Name("Referrer-Policy")!: "no-referrer",
        ]
    }
}
