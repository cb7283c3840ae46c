import RegionWatchCore

/// Configuration of the OTLP receivers (OTLP/HTTP and OTLP/gRPC; traces, metrics and logs).
public struct OTLPReceiverSettings: Equatable, Sendable {
    public var name: String
    public var host: String
    /// 0 picks a free port (tests).
    public var port: Int
    /// Largest request body accepted, also after decompression.
    public var maxBodyBytes: Int
    /// When set, requests must carry `Authorization: Bearer <token>`.
    public var bearerToken: String?
    public var attribution: RegionAttribution
    /// Connections, timeouts and body memory (see `ListenerLimits`).
    public var limits = ListenerLimits()
    /// Whether the OTLP/HTTP receiver listens (`--otlp-listen off` with `--otlp-grpc-listen`
    /// keeps only gRPC).
    public var httpEnabled = true
    /// How received OTLP metrics feed region signals (the HTTP semantic conventions unless
    /// configured with `metricSignals`).
    public var metricMappings = OTLPMetricMapping.httpSemanticConventions
    /// Where the OTLP/gRPC receiver listens; `nil` for none. The configuration's `otlp`
    /// collector listens on `127.0.0.1:4317` unless `grpcListen: off`.
    public var grpc: GRPCListen?

    /// The OTLP/gRPC listening address.
    public struct GRPCListen: Equatable, Sendable {
        public var host: String
        /// 0 picks a free port (tests).
        public var port: Int
        /// PEM files for TLS; plaintext when `nil` (the default, on loopback).
        public var tls: TLSFiles?

        public init(host: String = "127.0.0.1", port: Int = 4317, tls: TLSFiles? = nil) {
            self.host = host
            self.port = port
            self.tls = tls
        }

        /// A certificate chain and its private key, as PEM files.
        public struct TLSFiles: Equatable, Sendable {
            public var certificatePath: String
            public var keyPath: String

            public init(certificatePath: String, keyPath: String) {
                self.certificatePath = certificatePath
                self.keyPath = keyPath
            }
        }

        /// `host:port` (IPv6 hosts in brackets).
        public var address: String { OTLPReceiverSettings.address(host: host, port: port) }
    }

    public init(
        name: String = "otlp", host: String = "127.0.0.1", port: Int = 4318, maxBodyBytes: Int = 8 * 1024 * 1024,
        bearerToken: String? = nil, attribution: RegionAttribution = RegionAttribution()
    ) {
        self.name = name
        self.host = host
        self.port = port
        self.maxBodyBytes = maxBodyBytes
        self.bearerToken = bearerToken
        self.attribution = attribution
    }

    /// `host:port` (IPv6 hosts in brackets).
    public var listenAddress: String { Self.address(host: host, port: port) }

    /// `host:port`, with an IPv6 host in brackets.
    public static func address(host: String, port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// Parses `HOST:PORT` (`[::1]:4318` for IPv6). `nil` when malformed.
    public static func parseListenAddress(_ text: String) -> (host: String, port: Int)? {
        let host: Substring, port: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                return nil
            }
            host = text[text.index(after: text.startIndex)..<close]
            port = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            port = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, let number = Int(port), (0...65535).contains(number) else { return nil }
        return (String(host), number)
    }
}
