/// A NULL-terminated array of C strings (an `argv` or `envp`) in one allocation, for the length of `body`.
///
/// Spawning is the hot path of a run: one buffer instead of a `strdup` per environment variable.
func withCStringArray<Result>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) throws -> Result) rethrows -> Result {
    let total = strings.reduce(0) { $0 + $1.utf8.count + 1 }
    let bytes = UnsafeMutablePointer<CChar>.allocate(capacity: max(1, total))
    let pointers = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: strings.count + 1)
    defer {
        bytes.deallocate()
        pointers.deallocate()
    }
    var offset = 0
    for (index, string) in strings.enumerated() {
        pointers[index] = bytes + offset
        for byte in string.utf8 {
            bytes[offset] = CChar(bitPattern: byte)
            offset += 1
        }
        bytes[offset] = 0
        offset += 1
    }
    pointers[strings.count] = nil
    return try body(pointers)
}
