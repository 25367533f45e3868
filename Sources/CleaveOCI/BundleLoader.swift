import FoundationEssentials
import CleaveJSON
import CleaveSystem
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads and checks an OCI bundle's config.json. Every failure is an `OCIError` naming the
/// file and, where there is one, the field.
public enum BundleLoader {
    /// Reads `<bundle>/config.json`, decodes it and validates it (SpecValidation).
    public static func load(bundle: String) throws -> RuntimeSpec {
        let file = configPath(bundle: bundle)
        return try decode(try readFile(file), file: file)
    }

    public static func configPath(bundle: String) -> String {
        bundle.hasSuffix("/") ? bundle + "config.json" : bundle + "/config.json"
    }

    /// Decodes and validates config.json's bytes; `file` is only used in messages.
    public static func decode(_ data: Data, file: String) throws -> RuntimeSpec {
        let spec = try decodeDocument(RuntimeSpec.self, from: data, file: file)
        try SpecValidation.validate(spec, file: file)
        return spec
    }

    /// Decodes without validating, for tools that want to report every problem at once
    /// (SpecValidation.problems) or look at a config cleave would refuse.
    public static func decodeUnvalidated(_ data: Data, file: String) throws -> RuntimeSpec {
        try decodeDocument(RuntimeSpec.self, from: data, file: file)
    }

    // MARK: - Shared by every OCI document cleave reads

    /// Config files are small; the cap keeps a wrong path (a disk image, say) from being read
    /// into memory whole.
    static let maxFileSize = 64 << 20

    /// Reads with open/read rather than Data(contentsOf:) so the message carries the errno
    /// text ("Permission denied") and only regular files are read (never a FIFO or a device).
    static func readFile(_ file: String) throws -> Data {
        let fd = open(file, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT {
                throw OCIError(file: file, message: "no such file (an OCI bundle is a directory holding config.json)")
            }
            throw OCIError(file: file, message: "cannot open: \(errorText(code))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw OCIError(file: file, message: "cannot stat: \(errorText(errno))")
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG:
            break
        case S_IFDIR:
            throw OCIError(file: file, message: "is a directory, not a file")
        default:
            throw OCIError(file: file, message: "is not a regular file")
        }
        if info.st_size > maxFileSize {
            throw OCIError(file: file, message: "is \(info.st_size) bytes, more than the \(maxFileSize) cleave reads")
        }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n == 0 { break }
            if n < 0 {
                if errno == EINTR { continue }
                throw OCIError(file: file, message: "cannot read: \(errorText(errno))")
            }
            data.append(contentsOf: buffer[0..<n])
            if data.count > maxFileSize {
                throw OCIError(file: file, message: "is more than the \(maxFileSize) bytes cleave reads")
            }
        }
        return data
    }

    private static func errorText(_ code: Int32) -> String {
        "\(SystemError.reason(code)) (errno \(code))"
    }

    /// Parses with our positioned parser, then decodes through `NodeDecoder` so that syntax
    /// errors carry a line and column and type errors carry the field path.
    static func decodeDocument<T: Decodable>(_ type: T.Type, from data: Data, file: String) throws -> T {
        let bytes = [UInt8](data)
        let root: JSONNode
        do {
            root = try JSONParser.parse(bytes)
        } catch let error as JSONSyntaxError {
            let (line, column) = JSONParser.lineAndColumn(of: error.offset, in: bytes)
            throw OCIError(file: file, line: line, column: column, message: "invalid JSON: \(error.reason)")
        }
        do {
            return try NodeDecoder.decode(type, from: root)
        } catch let failure as NodeDecodingFailure {
            let (line, column) = JSONParser.lineAndColumn(of: failure.offset, in: bytes)
            if failure.path.isEmpty {
                throw OCIError(file: file, line: line, column: column,
                               message: "top level: \(failure.message)")
            }
            throw OCIError(file: file, field: FieldPath.format(failure.path), line: line, column: column,
                           message: failure.message)
        } catch let error as DecodingError {
            // Only custom init(from:) implementations throw these; keep their path.
            throw OCIError(decodingError: error, file: file)
        }
    }
}

extension OCIError {
    init(decodingError error: DecodingError, file: String?) {
        let path: [any CodingKey]
        let message: String
        switch error {
        case .typeMismatch(let type, let context):
            path = context.codingPath
            message = "expected \(type): \(context.debugDescription)"
        case .valueNotFound(let type, let context):
            path = context.codingPath
            message = "expected \(type), found null"
        case .keyNotFound(let key, let context):
            path = context.codingPath + [key]
            message = "missing (required)"
        case .dataCorrupted(let context):
            path = context.codingPath
            message = context.debugDescription
        @unknown default:
            path = []
            message = "\(error)"
        }
        self.init(file: file, field: path.isEmpty ? nil : FieldPath.format(path), message: message)
    }
}
