import CleaveSystem
/// How the workload's process is set up between clone and exec (the OCI
/// `process` object). The C target applies it; nothing here runs in the child.
public struct ProcessSettings: Sendable, Equatable {
    public struct User: Sendable, Equatable {
        public var uid: UInt32
        public var gid: UInt32
        public var additionalGids: [UInt32]
        public init(uid: UInt32, gid: UInt32, additionalGids: [UInt32] = []) {
            self.uid = uid; self.gid = gid; self.additionalGids = additionalGids
        }
    }

    public struct ResourceLimit: Sendable, Equatable {
        public var resource: Int32
        public var soft: UInt64
        public var hard: UInt64
        public init(resource: Int32, soft: UInt64, hard: UInt64) {
            self.resource = resource; self.soft = soft; self.hard = hard
        }
    }

    /// Capability sets as bit masks (bit n = capability number n).
    public struct Capabilities: Sendable, Equatable {
        public var bounding: UInt64, effective: UInt64, permitted: UInt64, inheritable: UInt64, ambient: UInt64
        public init(bounding: UInt64 = 0, effective: UInt64 = 0, permitted: UInt64 = 0,
                    inheritable: UInt64 = 0, ambient: UInt64 = 0) {
            self.bounding = bounding; self.effective = effective; self.permitted = permitted
            self.inheritable = inheritable; self.ambient = ambient
        }
    }

    public var cwd: String?
    public var user: User?
    public var umask: UInt32?
    public var noNewPrivileges = false
    public var oomScoreAdj: Int32?
    public var rlimits: [ResourceLimit] = []
    public var capabilities: Capabilities?

    public init() {}
}
