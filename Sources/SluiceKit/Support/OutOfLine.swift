/// An optional field kept out of line: one pointer in its struct whatever the value's size, nothing allocated while
/// it is nil, and a value shared rather than copied between copies of the struct (a fan-out's instances share their
/// step's `wait_for`, and so on).
@propertyWrapper
public struct OutOfLine<Value: Sendable>: Sendable {
    private final class Box: Sendable {
        let value: Value
        init(_ value: Value) { self.value = value }
    }

    private var box: Box?

    public init(wrappedValue: Value?) { box = wrappedValue.map(Box.init) }

    public var wrappedValue: Value? {
        get { box?.value }
        set { box = newValue.map(Box.init) }
    }
}
