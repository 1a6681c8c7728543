/// A failure of the test harness itself: a binary not found, a process that would not exit, a condition
/// that never came true.
package struct HarnessError: Error, CustomStringConvertible {
    package var description: String
    package init(_ description: String) { self.description = description }
}
