/// An `http://` or `https://` URL split into what a request needs.
public struct HTTPTarget: Equatable, Sendable, CustomStringConvertible {
    public var isTLS: Bool
    public var host: String
    public var port: Int
    /// Path and query, starting with `/`.
    public var pathAndQuery: String

    public init(isTLS: Bool, host: String, port: Int, pathAndQuery: String) {
        self.isTLS = isTLS
        self.host = host
        self.port = port
        self.pathAndQuery = pathAndQuery
    }

    /// Parses `http[s]://host[:port][/path][?query]` (IPv6 hosts in brackets). User info in
    /// the URL is refused: credentials belong in headers from the environment.
    public init(parsing text: String) throws(HTTPTargetError) {
        let lowered = text.lowercased()
        let rest: Substring
        if lowered.hasPrefix("http://") {
            isTLS = false
            rest = text.dropFirst(7)
        } else if lowered.hasPrefix("https://") {
            isTLS = true
            rest = text.dropFirst(8)
        } else {
            throw HTTPTargetError("must start with http:// or https://")
        }
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var path = String(rest[authorityEnd...])
        if path.isEmpty { path = "/" } else if path.hasPrefix("?") { path = "/" + path }
        if let hash = path.firstIndex(of: "#") { path = String(path[..<hash]) }
        guard !authority.contains("@") else { throw HTTPTargetError("put credentials in headers, not in the URL") }
        let hostPart: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else {
                throw HTTPTargetError("IPv6 host not closed with ]")
            }
            hostPart = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") {
                portText = after.dropFirst()
            } else if !after.isEmpty {
                throw HTTPTargetError("unexpected text after the host")
            }
        } else if let colon = authority.lastIndex(of: ":") {
            hostPart = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            hostPart = authority
        }
        guard !hostPart.isEmpty, !hostPart.contains(where: { $0.isWhitespace }) else {
            throw HTTPTargetError("no host")
        }
        host = String(hostPart)
        if let portText {
            guard let number = Int(portText), (1...65535).contains(number) else {
                throw HTTPTargetError("the port is not a number 1–65535")
            }
            port = number
        } else {
            port = isTLS ? 443 : 80
        }
        guard !path.contains(where: { $0.isWhitespace || $0.isNewline }) else {
            throw HTTPTargetError("spaces in the path must be percent-encoded")
        }
        pathAndQuery = path
    }

    /// The `Host` header value.
    public var hostHeader: String {
        let bracketed = host.contains(":") ? "[\(host)]" : host
        return port == (isTLS ? 443 : 80) ? bracketed : "\(bracketed):\(port)"
    }

    public var description: String {
        "\(isTLS ? "https" : "http")://\(hostHeader)\(pathAndQuery)"
    }

    /// This target with `pathAndQuery` replaced.
    public func with(pathAndQuery: String) -> HTTPTarget {
        var copy = self
        copy.pathAndQuery = pathAndQuery
        return copy
    }
}

/// A URL that cannot be used.
public struct HTTPTargetError: Error, Equatable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// Percent-encoding for query components.
public enum PercentEncoding {
    /// Encodes everything except RFC 3986 unreserved characters.
    public static func encodeQueryComponent(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                result.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                result += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return result
    }
}
