import FoundationEssentials

/// libcleave-teardown.so as built from this package's C sources, carried inside cleave (the
/// EmbedTeardownLibrary plugin generates `sha256` and `base64`), for installs without the
/// library on disk: a plain `swift build` or `swift run cleave`.
package enum EmbeddedTeardownLibrary {
    /// The library's bytes; nil only if the generated text is not base64 (a build bug).
    package static func bytes() -> [UInt8]? {
        Data(base64Encoded: base64).map { [UInt8]($0) }
    }

    /// A short name for this exact build of the library (directory names, messages).
    package static var digest: String { String(sha256.prefix(16)) }
}
