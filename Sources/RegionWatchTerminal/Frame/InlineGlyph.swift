/// One grapheme stored inline in 15 UTF-8 bytes, so a `Cell` is plain data: frames are created,
/// copied, compared and freed without reference counting (a `Character` field made every cell
/// copy a retain and every frame free a loop of releases; see DECISIONS §25).
///
/// A grapheme longer than 15 bytes (a long emoji ZWJ sequence, a letter under many combining
/// marks) keeps its longest prefix of whole scalars that fits, without a dangling joiner; its
/// width is measured on the full grapheme before it is stored, so the layout never shifts.
struct InlineGlyph: Hashable, Sendable {
    /// Bytes 0–7, least significant first.
    private var low: UInt64
    /// Bytes 8–14, least significant first; the top byte holds the length.
    private var high: UInt64

    static let capacity = 15
    private static let zeroWidthJoiner: Unicode.Scalar = "\u{200D}"

    /// A space.
    static let space = InlineGlyph(ascii: 0x20)

    /// One ASCII byte.
    init(ascii byte: UInt8) {
        self.init(low: UInt64(byte), high: 1 << 56)
    }

    init(_ character: Character) {
        let utf8 = character.utf8
        if utf8.count == 1, let ascii = character.asciiValue {
            self.init(ascii: ascii)
        } else if utf8.count <= InlineGlyph.capacity {
            self.init(bytes: utf8)
        } else {
            self.init(bytes: InlineGlyph.longestPrefix(of: character))
        }
    }

    /// The longest prefix of whole scalars of `character` that fits, without a trailing joiner.
    private static func longestPrefix(of character: Character) -> [UInt8] {
        var bytes: [UInt8] = []
        for scalar in character.unicodeScalars {
            let encoded = Array(String(scalar).utf8)
            guard bytes.count + encoded.count <= capacity else { break }
            bytes += encoded
        }
        while bytes.count >= 3, bytes.suffix(3).elementsEqual(String(zeroWidthJoiner).utf8) {
            bytes.removeLast(3)
        }
        return bytes
    }

    /// Packs at most `capacity` bytes.
    private init<Bytes: Collection<UInt8>>(bytes: Bytes) {
        var low: UInt64 = 0
        var high = UInt64(min(bytes.count, InlineGlyph.capacity)) << 56
        for (index, byte) in bytes.prefix(InlineGlyph.capacity).enumerated() {
            if index < 8 {
                low |= UInt64(byte) << (8 * UInt64(index))
            } else {
                high |= UInt64(byte) << (8 * UInt64(index - 8))
            }
        }
        self.init(low: low, high: high)
    }

    private init(low: UInt64, high: UInt64) {
        self.low = low
        self.high = high
    }

    /// UTF-8 bytes stored.
    var count: Int { Int(high >> 56) }

    /// Whether the glyph is one ASCII byte, and which.
    var asciiByte: UInt8? {
        count == 1 && low < 0x80 ? UInt8(low) : nil
    }

    private func byte(at index: Int) -> UInt8 {
        index < 8
            ? UInt8(truncatingIfNeeded: low >> (8 * UInt64(index)))
            : UInt8(truncatingIfNeeded: high >> (8 * UInt64(index - 8)))
    }

    /// The grapheme as a `Character`.
    var character: Character {
        if let ascii = asciiByte { return Character(Unicode.Scalar(ascii)) }
        var text = ""
        append(to: &text)
        return text.isEmpty ? " " : Character(text)
    }

    /// Appends the glyph's text to `text` without building a `Character`.
    func append(to text: inout String) {
        if let ascii = asciiByte {
            text.unicodeScalars.append(Unicode.Scalar(ascii))
            return
        }
        let length = count
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Self.capacity) { buffer in
            for index in 0..<length { buffer[index] = byte(at: index) }
            text += String(decoding: UnsafeBufferPointer(rebasing: buffer[0..<length]), as: UTF8.self)
        }
    }
}
