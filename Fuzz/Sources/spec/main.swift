import CleaveCgroups
@testable import CleaveOCI
@testable import CleaveRuntime
import CleaveSystem
import FoundationEssentials
import FuzzSupport

// config.json as `cleave run --bundle` takes it: decode, validate, then every use of the
// parsed values (limits, process settings, cgroup path, hooks). A refusal must be an OCIError
// or CleaveError that names the file; nothing may trap.
private let file = "/fuzz/bundle/config.json"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSpec(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let data = Data(fuzzBytes(start, count))

    // Every problem at once, as `cleave check` reports them.
    if let unvalidated = try? BundleLoader.decodeUnvalidated(data, file: file) {
        for problem in SpecValidation.problems(unvalidated, file: file) where problem.file != file {
            violation("validation problem without the file: \(problem)")
        }
        _ = SpecValidation.ignoredSettings(unvalidated)
    }

    let spec: RuntimeSpec
    do {
        spec = try BundleLoader.decode(data, file: file)
    } catch let error as OCIError {
        guard error.file == file, !error.message.isEmpty else { violation("OCIError without file or message: \(error)") }
        return 0
    } catch {
        violation("BundleLoader.decode threw \(type(of: error)), not OCIError: \(error)")
    }

    // A valid spec: what BundleRequest.make does with it, short of touching the filesystem.
    guard let process = spec.process, process.args?.isEmpty == false else {
        violation("a validated spec without process.args")
    }
    do {
        _ = try BundleRequest.settings(process, file: file)
        if let resources = spec.linux?.resources { _ = try BundleRequest.limits(resources, file: file) }
        _ = try BundleRequest.cgroupPath(spec.linux?.cgroupsPath, parent: "cleave", id: "fuzz", file: file)
        _ = EnvironmentList(strings: process.env ?? [])
        _ = CleaveAnnotations.teardownMode(in: spec.annotations)
        if let hooks = spec.hooks {
            _ = LifecycleHooks(hooks: hooks, ociVersion: spec.ociVersion, id: "fuzz",
                               bundle: "/fuzz/bundle", annotations: spec.annotations)
        }
    } catch let error as CleaveError {
        guard error.description.hasPrefix(file), error.exitCode == 125 else { violation("refusal without the file: \(error)") }
    } catch {
        violation("a valid spec's use threw \(type(of: error)): \(error)")
    }
    return 0
}
