import Foundation

/// Sizes as settings write them: `100MB`, `1GB`, `500KB`, `2048` (bytes); units are powers of 1024.
public enum ByteSize {
    static func bytes(_ text: String) -> Int64? {
        let units: [(String, Int64)] = [("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10), ("B", 1)]
        let value = text.trimmingCharacters(in: .whitespaces).uppercased()
        let (number, scale) = units.first { value.hasSuffix($0.0) }.map { (String(value.dropLast($0.0.count)), $0.1) } ?? (value, 1)
        guard let amount = Double(number.trimmingCharacters(in: .whitespaces)), amount >= 1, amount.isFinite else { return nil }
        return Int64(amount * Double(scale))
    }

    /// Memory as `resources:` and `--memory` write it, in Slurm's and Snakemake's way: `512M`, `4G`, `1.5T`, also with
    /// a `B` or `iB` after the unit (`4GB`, `4GiB`); a bare number is megabytes, as for `sbatch --mem`. At most 1 PiB.
    public static func memory(_ text: String) -> Int64? {
        var value = text.trimmingCharacters(in: .whitespaces).uppercased()
        for suffix in ["IB", "B"] where value.hasSuffix(suffix) && value.count > suffix.count {
            value.removeLast(suffix.count)
            break
        }
        let scales: [Character: Double] = ["K": 0x1p10, "M": 0x1p20, "G": 0x1p30, "T": 0x1p40]
        let scale = value.last.flatMap { scales[$0] }
        if scale != nil { value.removeLast() }
        guard value.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }), let amount = Double(value), amount > 0 else { return nil }
        let bytes = amount * (scale ?? 0x1p20)
        guard bytes >= 1, bytes <= 0x1p50 else { return nil }
        return Int64(bytes.rounded(.up))
    }

    /// `bytes` exactly, in the largest unit that writes it with at most one decimal: `4G`, `1.5G`, `2050M`, `1000B`.
    public static func memoryText(_ bytes: Int64) -> String {
        for (unit, shift) in [("T", 40), ("G", 30), ("M", 20), ("K", 10)] where bytes >= Int64(1) << shift {
            let tenths = bytes * 10
            guard tenths % (Int64(1) << shift) == 0 else { continue }
            let amount = tenths >> shift
            return (amount % 10 == 0 ? "\(amount / 10)" : "\(amount / 10).\(amount % 10)") + unit
        }
        return "\(bytes)B"
    }
}
