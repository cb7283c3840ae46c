import Foundation
import GRPCCore
import GRPCProtobuf
import RegionWatchCore

/// The OTLP/gRPC `TraceService`, `MetricsService` and `LogsService`: each `Export` checks the
/// bearer token, decodes the request with the same decoders as OTLP/HTTP (in a custom
/// deserializer, straight from the transport's buffer; span details stay in their wire
/// encoding), takes room on the ingest gate and answers with `partial_success`. No generated
/// service code: the three methods are registered on the router by hand.
struct OTLPExportServices: RegistrableRPCService {
    static func export(of signal: OTLPSignal) -> MethodDescriptor {
        MethodDescriptor(fullyQualifiedService: signal.grpcService, method: "Export")
    }

    let context: OTLPReceiverContext

    func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        let context = context
        for signal in OTLPSignal.allCases {
            router.registerHandler(
                forMethod: Self.export(of: signal), deserializer: ExportDeserializer(context: context, signal: signal),
                serializer: RawResponseSerializer()
            ) { request, _ in
                // The token is checked before the message is read, so an unauthenticated body is
                // never decoded (messages are deserialized as the stream is consumed).
                try Self.authenticate(request.metadata, context: context)
                let single = try await ServerRequest(stream: request)
                return StreamingServerResponse(single: try Self.export(single.message, context: context))
            }
        }
    }

    /// Refuses a call without the configured bearer token (`authorization` metadata).
    static func authenticate(_ metadata: Metadata, context: OTLPReceiverContext) throws {
        guard let token = context.settings.bearerToken else { return }
        let presented = metadata[stringValues: "authorization"].first { _ in true } ?? ""
        guard BearerToken.matches(presented, token: token) else {
            throw context.refuse(.unauthenticated, "missing or wrong bearer token")
        }
    }

    /// Handles one decoded export. Throws the gRPC status OTLP asks for on refusal.
    static func export(_ decoding: DecodedRequest, context: OTLPReceiverContext) throws -> ServerResponse<[UInt8]> {
        let request: DecodedSignalRequest
        switch decoding.result {
        case .success(let decoded): request = decoded
        case .failure(let error):
            throw context.refuse(error.isTooLarge ? .resourceExhausted : .invalidArgument, error.description)
        }
        if let saturated = context.accept(request, byteCount: decoding.byteCount) {
            // OTLP: UNAVAILABLE is retryable; RetryInfo says when.
            context.recordRefusal(code: .unavailable, message: saturated)
            throw GoogleRPCStatus(code: .unavailable, message: saturated, details: .retryInfo(delay: .seconds(1)))
        }
        return ServerResponse(message: request.protobufResponse)
    }
}

/// An export request decoded from the transport's bytes, or why it could not be.
struct DecodedRequest: Sendable {
    var result: Result<DecodedSignalRequest, OTLPDecodingError>
    var byteCount: Int
}

/// Decodes one signal's export request in place from the message bytes gRPC hands over (no
/// copy of the body), with the receiver's region attribution and clock. A malformed message
/// is not thrown here: the handler refuses it with `INVALID_ARGUMENT` and counts it.
struct ExportDeserializer: MessageDeserializer {
    let context: OTLPReceiverContext
    let signal: OTLPSignal

    func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> DecodedRequest {
        let settings = context.settings
        guard serializedMessageBytes.count <= settings.maxBodyBytes else {
            return DecodedRequest(result: .failure(Self.tooLarge(serializedMessageBytes.count, settings)), byteCount: 0)
        }
        let now = context.clock.now()
        let signal = signal
        let result = serializedMessageBytes.withUnsafeBytes {
            bytes -> Result<DecodedSignalRequest, OTLPDecodingError> in
            do throws(OTLPDecodingError) {
                return .success(try signal.decode(bytes, encoding: .protobuf, settings: settings, receivedAt: now))
            } catch {
                return .failure(error)
            }
        }
        return DecodedRequest(result: result, byteCount: serializedMessageBytes.count)
    }

    static func tooLarge(_ count: Int, _ settings: OTLPReceiverSettings) -> OTLPDecodingError {
        OTLPDecodingError(
            "message of \(Format.bytes(Double(count))) is larger than the limit of \(Format.bytes(Double(settings.maxBodyBytes))) (after decompression)",
            isTooLarge: true)
    }
}

/// A response message already encoded.
struct RawResponseSerializer: MessageSerializer {
    func serialize<Bytes: GRPCContiguousBytes>(_ message: [UInt8]) throws -> Bytes {
        Bytes(message)
    }
}

/// Checks an `authorization` value (HTTP header or gRPC metadata) against the bearer token:
/// the scheme is case-insensitive (RFC 9110 §11.1) and the token is compared in constant time.
enum BearerToken {
    static func matches(_ presented: String, token: String) -> Bool {
        let parts = presented.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        let isBearer = parts.count == 2 && parts[0].lowercased() == "bearer"
        let given = isBearer ? parts[1].trimmingCharacters(in: .whitespaces) : ""
        return constantTimeEquals(given, token) && isBearer
    }

    private static func constantTimeEquals(_ lhs: String, _ rhs: String) -> Bool {
        let left = Array(lhs.utf8), right = Array(rhs.utf8)
        var difference = left.count ^ right.count
        for index in 0..<max(left.count, right.count) {
            difference |= Int((index < left.count ? left[index] : 0) ^ (index < right.count ? right[index] : 0))
        }
        return difference == 0
    }
}

extension OTLPReceiverContext {
    /// Counts a refused gRPC call and returns the error to throw.
    func refuse(_ code: RPCError.Code, _ message: String) -> RPCError {
        recordRefusal(code: code, message: message)
        return RPCError(code: code, message: message)
    }

    /// Counts a refused gRPC call by its status code.
    func recordRefusal(code: RPCError.Code, message: String) {
        statistics.withLock {
            $0.requestsRefused += 1
            $0.refusalsByStatus[code.rawValue, default: 0] += 1
            $0.lastRefusal = "gRPC \(code): \(message)"
        }
    }
}
