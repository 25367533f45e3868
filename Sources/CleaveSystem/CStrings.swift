import Glibc

/// argv and envp for execve and posix_spawn: NUL-terminated copies, freed by the caller.
public struct CStringArray {
    public let pointer: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>
    package let count: Int

    public init(_ strings: [String]) {
        count = strings.count
        pointer = .allocate(capacity: strings.count + 1)
        for (i, s) in strings.enumerated() { pointer[i] = strdup(s) }
        pointer[strings.count] = nil
    }

    public func free() {
        for i in 0..<count { Glibc.free(pointer[i]) }
        pointer.deallocate()
    }
}

package func withOptionalCString<R>(_ s: String?, _ body: (UnsafePointer<CChar>?) -> R) -> R {
    guard let s else { return body(nil) }
    return s.withCString { body($0) }
}

package func withOptionalPointer<T, R>(_ value: inout T?, _ body: (UnsafeMutablePointer<T>?) -> R) -> R {
    guard var unwrapped = value else { return body(nil) }
    defer { value = unwrapped }
    return withUnsafeMutablePointer(to: &unwrapped) { body($0) }
}
