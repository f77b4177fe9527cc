/// The names of pools (`pool:` of a step, `pools:` of `sluice.yaml`).
enum PoolName {
    static let rule = "use letters, digits, '-', '_' and '.', as in warehouse or gpu-2"

    static func isValid(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 100 && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
    }
}
