import FoundationEssentials

/// The teardown helper's body (helper_main.c and helper_confine.c, the sources of the preloaded
/// helper) linked into one position-independent block that `cleave attach` copies into a
/// running process; the EmbedTeardownLibrary plugin generates `entryOffset` and `base64`.
package enum InjectedHelperBlock {
    /// The block's bytes; nil only if the generated text is not base64 (a build bug).
    package static func bytes() -> [UInt8]? {
        Data(base64Encoded: base64).map { [UInt8]($0) }
    }

    /// Where cleave_helper_main starts in the block.
    package static var entry: Int { entryOffset }
}
