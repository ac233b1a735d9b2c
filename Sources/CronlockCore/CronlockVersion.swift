/// The version of RedLock and `cronlock`: the one place it is written. `cronlock --version` prints
/// it, CHANGELOG.md's newest release carries it, and a release is tagged with it.
package enum CronlockVersion {
    /// Semantic version, without a leading `v` (SwiftPM resolves tags of this form).
    package static let current = "0.1.0"
}
