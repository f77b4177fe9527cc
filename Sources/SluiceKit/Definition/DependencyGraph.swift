/// The steps of a pipeline as a graph of indices: who waits for whom.
public struct DependencyGraph: Sendable {
    public let names: [String]
    /// `upstream[i]`: the steps step `i` depends on.
    public let upstream: [[Int]]
    /// `downstream[i]`: the steps that depend on step `i`.
    public let downstream: [[Int]]
    public let index: [String: Int]

    /// Builds the graph; dependencies on unknown names are left out (validation reports them).
    public init(steps: [Step]) {
        names = steps.map(\.name)
        var index: [String: Int] = [:]
        for (position, name) in names.enumerated() where index[name] == nil { index[name] = position }
        var upstream = Array(repeating: [Int](), count: steps.count)
        var downstream = Array(repeating: [Int](), count: steps.count)
        for (position, step) in steps.enumerated() {
            for dependency in Set(step.dependsOn) {
                guard let source = index[dependency] else { continue }
                upstream[position].append(source)
                downstream[source].append(position)
            }
            upstream[position].sort()
        }
        for position in downstream.indices { downstream[position].sort() }
        self.index = index
        self.upstream = upstream
        self.downstream = downstream
    }

    public var count: Int { names.count }

    /// One dependency cycle as step names, first name repeated at the end (`a -> b -> a`), or nil if there is none.
    func findCycle() -> [String]? {
        enum Mark { case unvisited, active, done }
        var marks = Array(repeating: Mark.unvisited, count: count)
        var path: [Int] = []
        // Iterative depth-first search: a deep chain must not overflow the stack.
        for start in 0..<count where marks[start] == .unvisited {
            var stack: [(node: Int, next: Int)] = [(start, 0)]
            marks[start] = .active
            path = [start]
            while let top = stack.last {
                if top.next < upstream[top.node].count {
                    stack[stack.count - 1].next += 1
                    let neighbour = upstream[top.node][top.next]
                    switch marks[neighbour] {
                    case .active:
                        let cycleStart = path.firstIndex(of: neighbour)!
                        // Walking upstream edges: reverse so the cycle reads in execution order, and start it at
                        // the step that comes first in the file.
                        var cycle = Array(path[cycleStart...].reversed())
                        let first = cycle.indices.min { cycle[$0] < cycle[$1] }!
                        cycle = Array(cycle[first...] + cycle[..<first])
                        return (cycle + [cycle[0]]).map { names[$0] }
                    case .unvisited:
                        marks[neighbour] = .active
                        stack.append((neighbour, 0))
                        path.append(neighbour)
                    case .done: continue
                    }
                } else {
                    marks[top.node] = .done
                    stack.removeLast()
                    path.removeLast()
                }
            }
        }
        return nil
    }

    /// Every step that `roots` depend on, directly or not (roots excluded).
    public func ancestors(of roots: [Int]) -> Set<Int> { reach(from: roots, along: upstream) }

    /// Every step that depends on `roots`, directly or not (roots excluded).
    func descendants(of roots: [Int]) -> Set<Int> { reach(from: roots, along: downstream) }

    private func reach(from roots: [Int], along edges: [[Int]]) -> Set<Int> {
        var seen = Set<Int>()
        var stack = roots
        while let node = stack.popLast() {
            for next in edges[node] where seen.insert(next).inserted { stack.append(next) }
        }
        return seen
    }

    /// Indices in an order where every step comes after its upstream steps; among steps that could go next,
    /// the one declared first in the file.
    func topologicalOrder() -> [Int] {
        var waiting = upstream.map(\.count)
        var ready = MinHeap((0..<count).filter { waiting[$0] == 0 })
        var order: [Int] = []
        order.reserveCapacity(count)
        while let node = ready.pop() {
            order.append(node)
            for next in downstream[node] {
                waiting[next] -= 1
                if waiting[next] == 0 { ready.push(next) }
            }
        }
        return order
    }
}

/// The smallest of a set of indices first.
private struct MinHeap {
    private var items: [Int]

    init(_ sorted: [Int]) { items = sorted }

    mutating func push(_ item: Int) {
        items.append(item)
        var child = items.count - 1
        while child > 0, items[(child - 1) / 2] > items[child] {
            items.swapAt(child, (child - 1) / 2)
            child = (child - 1) / 2
        }
    }

    mutating func pop() -> Int? {
        guard let first = items.first else { return nil }
        items.swapAt(0, items.count - 1)
        items.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < items.count, items[left] < items[smallest] { smallest = left }
            if right < items.count, items[right] < items[smallest] { smallest = right }
            if smallest == parent { return first }
            items.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
