/// A trace arranged as a tree for the waterfall: spans in depth-first order (children by start
/// time), with depth, the critical path, errors and cross-region hops marked. Built iteratively
/// so traces of any depth are safe; spans whose parent is missing become extra roots, and
/// parent cycles in hostile input are broken.
public struct TraceTree: Sendable {
    public struct Node: Equatable, Sendable {
        public var span: SpanInfo
        public var depth: Int
        public var parent: Int?
        public var children: [Int]
        /// On the critical path: the chain of spans that determined the trace's duration.
        public var isOnCriticalPath: Bool
        /// Some span below this one failed (drawn hollow).
        public var hasErrorBelow: Bool
        /// The parent runs in another region.
        public var isCrossRegion: Bool

        public var isError: Bool { span.status == .error }
    }

    /// Nodes in display order (depth first).
    public private(set) var nodes: [Node] = []
    public private(set) var roots: [Int] = []
    public let startUnixNano: UInt64
    public let endUnixNano: UInt64

    public init(spans: [SpanInfo]) {
        startUnixNano = spans.map(\.startUnixNano).min() ?? 0
        endUnixNano = spans.map(\.endUnixNano).max() ?? 0
        guard !spans.isEmpty else { return }

        var positionByID: [UInt64: Int] = [:]
        positionByID.reserveCapacity(spans.count)
        for (position, span) in spans.enumerated() where positionByID[span.spanID.value] == nil {
            positionByID[span.spanID.value] = position
        }
        var childrenOf = [[Int]](repeating: [], count: spans.count)
        var rootPositions: [Int] = []
        for (position, span) in spans.enumerated() {
            if span.parentSpanID.isValid, let parent = positionByID[span.parentSpanID.value], parent != position {
                childrenOf[parent].append(position)
            } else {
                rootPositions.append(position)
            }
        }
        let byStart: (Int, Int) -> Bool = {
            spans[$0].startUnixNano != spans[$1].startUnixNano
                ? spans[$0].startUnixNano < spans[$1].startUnixNano : $0 < $1
        }
        for index in childrenOf.indices where childrenOf[index].count > 1 { childrenOf[index].sort(by: byStart) }
        rootPositions.sort(by: byStart)

        // Depth-first order, iteratively; unreached spans (cycles) become roots.
        var order = [Int](repeating: -1, count: spans.count)
        var visited = [Bool](repeating: false, count: spans.count)
        var nodes: [Node] = []
        nodes.reserveCapacity(spans.count)
        var pendingRoots = rootPositions
        var nextUnvisited = 0
        while true {
            var root: Int?
            while let candidate = pendingRoots.first {
                pendingRoots.removeFirst()
                if !visited[candidate] {
                    root = candidate
                    break
                }
            }
            if root == nil {
                while nextUnvisited < spans.count, visited[nextUnvisited] { nextUnvisited += 1 }
                if nextUnvisited < spans.count { root = nextUnvisited }
            }
            guard let start = root else { break }
            var stack: [(position: Int, depth: Int, parent: Int?)] = [(start, 0, nil)]
            while let (position, depth, parent) = stack.popLast() {
                guard !visited[position] else { continue }
                visited[position] = true
                let nodeIndex = nodes.count
                order[position] = nodeIndex
                if parent == nil { roots.append(nodeIndex) }
                let isCrossRegion = parent.map { nodes[$0].span.region != spans[position].region } ?? false
                nodes.append(
                    Node(
                        span: spans[position], depth: depth, parent: parent, children: [], isOnCriticalPath: false,
                        hasErrorBelow: false, isCrossRegion: isCrossRegion))
                if let parent { nodes[parent].children.append(nodeIndex) }
                for child in childrenOf[position].reversed() where !visited[child] {
                    stack.append((child, depth + 1, nodeIndex))
                }
            }
        }

        // Errors below: children come after parents in depth-first order, so walk backwards.
        for index in nodes.indices.reversed() {
            if let parent = nodes[index].parent, nodes[index].isError || nodes[index].hasErrorBelow {
                nodes[parent].hasErrorBelow = true
            }
        }
        self.nodes = nodes
        markCriticalPath()
    }

    /// Marks the critical path: from the root that ends last, repeatedly the child that
    /// finished last before the current point, then the work before that child's start.
    private mutating func markCriticalPath() {
        guard let root = roots.max(by: { nodes[$0].span.endUnixNano < nodes[$1].span.endUnixNano }) else { return }
        var work: [(node: Int, cursor: UInt64)] = [(root, nodes[root].span.endUnixNano)]
        while let (index, limit) = work.popLast() {
            nodes[index].isOnCriticalPath = true
            let span = nodes[index].span
            var cursor = min(limit, span.endUnixNano)
            let children = nodes[index].children.sorted {
                min(nodes[$0].span.endUnixNano, span.endUnixNano) > min(nodes[$1].span.endUnixNano, span.endUnixNano)
            }
            var chosen: [(Int, UInt64)] = []
            for child in children {
                let childSpan = nodes[child].span
                let end = min(childSpan.endUnixNano, span.endUnixNano)
                guard end <= cursor, childSpan.startUnixNano < cursor else { continue }
                chosen.append((child, end))
                cursor = childSpan.startUnixNano
            }
            work.append(contentsOf: chosen)
        }
    }

    /// Indices of the nodes to show, skipping the descendants of collapsed spans.
    public func visibleNodes(collapsed: Set<SpanID>) -> [Int] {
        guard !collapsed.isEmpty else { return Array(nodes.indices) }
        var visible: [Int] = []
        visible.reserveCapacity(nodes.count)
        var index = 0
        while index < nodes.count {
            visible.append(index)
            if collapsed.contains(nodes[index].span.spanID) {
                // Skip the subtree: following nodes deeper than this one.
                let depth = nodes[index].depth
                index += 1
                while index < nodes.count, nodes[index].depth > depth { index += 1 }
            } else {
                index += 1
            }
        }
        return visible
    }

    /// The node for `spanID`, if present.
    public func index(of spanID: SpanID) -> Int? {
        nodes.firstIndex { $0.span.spanID == spanID }
    }
}
