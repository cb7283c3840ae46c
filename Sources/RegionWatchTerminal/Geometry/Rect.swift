/// A terminal size in cells.
public struct TerminalSize: Hashable, Sendable, CustomStringConvertible {
    public var width: Int
    public var height: Int

    public init(width: Int, height: Int) {
        self.width = max(0, width)
        self.height = max(0, height)
    }

    public var description: String { "\(width)x\(height)" }
}

/// A rectangle of cells. Empty rectangles are valid and render nothing.
public struct Rect: Hashable, Sendable, CustomStringConvertible {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = max(0, width)
        self.height = max(0, height)
    }

    public init(size: TerminalSize) {
        self.init(x: 0, y: 0, width: size.width, height: size.height)
    }

    public var isEmpty: Bool { width == 0 || height == 0 }
    public var maxX: Int { x + width }
    public var maxY: Int { y + height }
    public var description: String { "(\(x),\(y) \(width)x\(height))" }

    /// The rectangle shrunk by `amount` on every side.
    public func inset(by amount: Int) -> Rect {
        inset(horizontal: amount, vertical: amount)
    }

    /// The rectangle shrunk by the given margins.
    public func inset(horizontal: Int, vertical: Int) -> Rect {
        Rect(x: x + horizontal, y: y + vertical, width: width - 2 * horizontal, height: height - 2 * vertical)
    }

    /// The overlap of two rectangles (possibly empty).
    public func intersection(_ other: Rect) -> Rect {
        let left = max(x, other.x), top = max(y, other.y)
        let right = min(maxX, other.maxX), bottom = min(maxY, other.maxY)
        return Rect(x: left, y: top, width: right - left, height: bottom - top)
    }

    /// Row `index` (relative) as a one-line rectangle.
    public func row(_ index: Int) -> Rect {
        Rect(x: x, y: y + index, width: width, height: index < height ? 1 : 0)
    }

    /// A rectangle of at most `width`×`height`, centred inside this one.
    public func centered(width: Int, height: Int) -> Rect {
        let w = min(width, self.width), h = min(height, self.height)
        return Rect(x: x + (self.width - w) / 2, y: y + (self.height - h) / 2, width: w, height: h)
    }

    /// Splits off the top `count` rows: (top, rest).
    public func splitTop(_ count: Int) -> (Rect, Rect) {
        let top = min(max(0, count), height)
        return (Rect(x: x, y: y, width: width, height: top), Rect(x: x, y: y + top, width: width, height: height - top))
    }

    /// Splits off the bottom `count` rows: (rest, bottom).
    public func splitBottom(_ count: Int) -> (Rect, Rect) {
        let bottom = min(max(0, count), height)
        return (
            Rect(x: x, y: y, width: width, height: height - bottom),
            Rect(x: x, y: maxY - bottom, width: width, height: bottom)
        )
    }

    /// Splits off the left `count` columns: (left, rest).
    public func splitLeft(_ count: Int) -> (Rect, Rect) {
        let left = min(max(0, count), width)
        return (
            Rect(x: x, y: y, width: left, height: height), Rect(x: x + left, y: y, width: width - left, height: height)
        )
    }
}

/// How much room a part of a layout asks for.
public enum LayoutConstraint: Hashable, Sendable {
    /// Exactly this many cells (less when there is not enough room).
    case length(Int)
    /// This percentage of the whole.
    case percentage(Int)
    /// At least this many cells, growing into leftover room like `fill(1)`.
    case minimum(Int)
    /// A share of the leftover room, by weight.
    case fill(Int)
}

/// Direction in which a layout splits a rectangle.
public enum LayoutDirection: Sendable {
    case horizontal
    case vertical
}

/// Splits rectangles into parts by constraints (modelled on ratatui's Layout).
public enum Layout {
    /// Splits `area` along `direction` into one rectangle per constraint, in order, with
    /// `spacing` cells between parts. Fixed parts are served first, then leftover room goes to
    /// `minimum` and `fill` parts by weight; nothing ever exceeds `area`.
    public static func split(
        _ area: Rect, _ direction: LayoutDirection, _ constraints: [LayoutConstraint], spacing: Int = 0
    ) -> [Rect] {
        guard !constraints.isEmpty else { return [] }
        let total = direction == .horizontal ? area.width : area.height
        let available = max(0, total - spacing * (constraints.count - 1))
        var sizes = constraints.map { constraint -> Int in
            switch constraint {
            case .length(let n): max(0, n)
            case .percentage(let p): max(0, available * p / 100)
            case .minimum(let n): max(0, n)
            case .fill: 0
            }
        }
        // Shrink from the end when fixed parts overflow.
        var overflow = sizes.reduce(0, +) - available
        var index = sizes.count - 1
        while overflow > 0, index >= 0 {
            let cut = min(overflow, sizes[index])
            sizes[index] -= cut
            overflow -= cut
            index -= 1
        }
        var leftover = available - sizes.reduce(0, +)
        let weights = constraints.map { constraint -> Int in
            switch constraint {
            case .fill(let weight): max(0, weight)
            case .minimum: 1
            default: 0
            }
        }
        let totalWeight = weights.reduce(0, +)
        if leftover > 0, totalWeight > 0 {
            let share = leftover
            for i in sizes.indices where weights[i] > 0 {
                let extra = share * weights[i] / totalWeight
                sizes[i] += extra
                leftover -= extra
            }
            for i in sizes.indices.reversed() where weights[i] > 0 && leftover > 0 {
                sizes[i] += 1
                leftover -= 1
            }
        }
        var offset = direction == .horizontal ? area.x : area.y
        return sizes.map { size in
            defer { offset += size + spacing }
            return direction == .horizontal
                ? Rect(x: offset, y: area.y, width: size, height: area.height)
                : Rect(x: area.x, y: offset, width: area.width, height: size)
        }
    }
}
