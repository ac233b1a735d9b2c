#if canImport(Glibc)
import Glibc
#endif

/// Makes sure descriptors 0, 1 and 2 are open before cronlock opens anything else. A process
/// started with one of them closed would otherwise give that number to its first socket or pipe,
/// and its own (or its command's) output would go there.
package enum StandardDescriptors {
    /// Opens /dev/null on each of 0, 1, 2 that is closed.
    package static func openMissing() {
        for descriptor in Int32(0)...2 where fcntl(descriptor, F_GETFD) == -1 {
            _ = open("/dev/null", O_RDWR)  // takes the lowest free number: this one
        }
    }
}
