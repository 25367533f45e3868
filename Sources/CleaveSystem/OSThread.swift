import Glibc

/// A POSIX thread running a closure: the agent's watcher and the probe's page-touching
/// threads need a real kernel thread (a Swift Task may share one, or never start).
public enum OSThread {
    private final class Body { let run: () -> Void; init(_ run: @escaping () -> Void) { self.run = run } }

    /// Starts `body` on a new thread; throws SystemError("pthread_create") when none can be made.
    @discardableResult
    public static func start(_ body: @escaping () -> Void) throws -> pthread_t {
        let box = Unmanaged.passRetained(Body(body)).toOpaque()
        var tid = pthread_t()
        let rc = pthread_create(&tid, nil, { arg in
            Unmanaged<Body>.fromOpaque(arg!).takeRetainedValue().run()
            return nil
        }, box)
        guard rc == 0 else {
            Unmanaged<Body>.fromOpaque(box).release()
            throw SystemError("pthread_create", errno: rc)
        }
        return tid
    }

    public static func join(_ thread: pthread_t) { pthread_join(thread, nil) }
}
