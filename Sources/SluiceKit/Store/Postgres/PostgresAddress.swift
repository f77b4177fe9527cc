import Foundation
import NIOSSL
import PostgresNIO

/// A `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=…&sslrootcert=…]` URL: where the database is, who
/// connects, and whether the connection is encrypted, in libpq's terms.
struct PostgresAddress {
    /// libpq's `sslmode`; the default is `prefer`, as libpq's.
    enum Encryption: String, CaseIterable {
        /// Never TLS.
        case disable
        /// TLS when the server offers it, without checking its certificate.
        case prefer
        /// TLS or no connection, without checking the certificate.
        case require
        /// TLS, with a certificate signed by `sslrootcert` (or the system's authorities), for any host name.
        case verifyCA = "verify-ca"
        /// TLS, with a certificate signed so and issued for the host connected to.
        case verifyFull = "verify-full"
    }

    var host: String
    var port: Int
    var username: String
    var password: String?
    var database: String?
    var encryption: Encryption
    /// A PEM file of the authorities that may sign the server's certificate.
    var rootCertificate: String?

    /// The address in `url`, or why it is none.
    static func parse(_ url: String) -> Result<PostgresAddress, AddressProblem> {
        guard let components = URLComponents(string: url), ["postgres", "postgresql"].contains(components.scheme),
            let host = components.host, !host.isEmpty
        else {
            return .failure(AddressProblem("must be a URL such as postgres://sluice@db.example.com:5432/sluice"))
        }
        var address = PostgresAddress(
            host: host, port: components.port ?? 5432, username: components.user ?? "postgres",
            password: components.password, database: components.path.split(separator: "/").first.map(String.init),
            encryption: .prefer)
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let mode = item.value.flatMap(Encryption.init(rawValue:)) else {
                    return .failure(
                        AddressProblem("has sslmode '\(item.value ?? "")'; use " + Encryption.allCases.map(\.rawValue).joined(separator: ", ")))
                }
                address.encryption = mode
            case "sslrootcert": address.rootCertificate = item.value
            default: return .failure(AddressProblem("has '\(item.name)', which Sluice does not know; it takes sslmode and sslrootcert"))
            }
        }
        return .success(address)
    }

    /// The TLS settings, nil for `disable`. Throws when the root certificate file cannot be read.
    private func tlsConfiguration() throws -> TLSConfiguration? {
        guard encryption != .disable else { return nil }
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification =
            switch encryption {
            case .verifyCA: .noHostnameVerification
            case .verifyFull: .fullVerification
            default: .none
            }
        if let rootCertificate {
            guard let certificates = try? NIOSSLCertificate.fromPEMFile(rootCertificate), !certificates.isEmpty else {
                throw AddressProblem("has sslrootcert '\(rootCertificate)', which is not a readable PEM certificate file")
            }
            configuration.trustRoots = .certificates(certificates)
        }
        return configuration
    }

    func clientConfiguration() throws -> PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS =
            switch (encryption, try tlsConfiguration()) {
            case let (.prefer, configuration?): .prefer(configuration)
            case let (_, configuration?): .require(configuration)
            case (_, nil): .disable
            }
        return PostgresClient.Configuration(host: host, port: port, username: username, password: password, database: database, tls: tls)
    }

    /// The same settings for a single connection.
    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS =
            switch (encryption, try tlsConfiguration()) {
            case let (.prefer, configuration?): .prefer(try NIOSSLContext(configuration: configuration))
            case let (_, configuration?): .require(try NIOSSLContext(configuration: configuration))
            case (_, nil): .disable
            }
        return PostgresConnection.Configuration(host: host, port: port, username: username, password: password, database: database, tls: tls)
    }
}

struct AddressProblem: Error {
    var message: String
    init(_ message: String) { self.message = message }
}
