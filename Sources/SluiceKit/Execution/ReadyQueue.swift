/// Step indices waiting for their turn: the highest `priority` first, and among equals the first come (a binary
/// heap: pushes and pops take O(log n)).
struct ReadyQueue {
    private struct Entry {
        var priority: Int
        var arrival: Int
        var index: Int

        func goesBefore(_ other: Entry) -> Bool {
            priority != other.priority ? priority > other.priority : arrival < other.arrival
        }
    }

    private var heap: [Entry] = []
    private var arrivals = 0

    init() {}

    var isEmpty: Bool { heap.isEmpty }

    /// The index that ``pop()`` would return.
    var first: Int? { heap.first?.index }

    mutating func push(_ index: Int, priority: Int = 0) {
        heap.append(Entry(priority: priority, arrival: arrivals, index: index))
        arrivals += 1
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].goesBefore(heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Int? {
        guard !heap.isEmpty else { return nil }
        heap.swapAt(0, heap.count - 1)
        let top = heap.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var best = parent
            if left < heap.count, heap[left].goesBefore(heap[best]) { best = left }
            if right < heap.count, heap[right].goesBefore(heap[best]) { best = right }
            guard best != parent else { break }
            heap.swapAt(parent, best)
            parent = best
        }
        return top.index
    }

    /// Takes every index out, in order.
    mutating func drain() -> [Int] {
        var all: [Int] = []
        while let index = pop() { all.append(index) }
        return all
    }
}
