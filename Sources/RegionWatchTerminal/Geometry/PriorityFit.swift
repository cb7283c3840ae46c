/// Chooses which of several parts fit into a width, most important first: the rule behind
/// tables dropping columns, headers dropping segments and compact rows dropping fields.
public enum PriorityFit {
    /// Indices of the parts that fit into `available` cells, taking parts in descending
    /// priority (ties in order) while they fit; `separator` cells go between chosen parts.
    public static func choose(widths: [Int], priorities: [Int], available: Int, separator: Int = 0) -> Set<Int> {
        var chosen = Set<Int>()
        var used = 0
        let order = widths.indices.sorted {
            priorities[$0] != priorities[$1] ? priorities[$0] > priorities[$1] : $0 < $1
        }
        for index in order {
            let extra = widths[index] + (chosen.isEmpty ? 0 : separator)
            if used + extra <= available {
                chosen.insert(index)
                used += extra
            }
        }
        return chosen
    }
}
