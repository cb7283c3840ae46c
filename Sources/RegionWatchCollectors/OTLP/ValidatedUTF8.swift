import Foundation

/// Text from bytes that must be valid UTF-8, for the decoders' hot paths.
///
/// `String(validating:as:)` is generic and not specialised into callers: every call looked up
/// its generic metadata at run time (a tenth of decoding a log record). `String(decoding:as:)`
/// on a byte buffer is the standard library's specialised fast path; it repairs invalid input
/// instead of failing, so the result is valid exactly when it holds the same bytes.
enum ValidatedUTF8 {
    /// The text of `bytes`, or `nil` when they are not valid UTF-8.
    static func string(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        var text = String(decoding: bytes, as: UTF8.self)
        guard text.utf8.count == bytes.count else { return nil }
        if bytes.isEmpty { return text }
        let same = text.withUTF8 { memcmp($0.baseAddress!, bytes.baseAddress!, bytes.count) == 0 }
        return same ? text : nil
    }
}
