import CSpawn

extension Termination {
    /// Decodes a `waitpid` status; a status that is neither an exit nor a death by signal (it
    /// cannot come from a blocking `waitpid` without `WUNTRACED`) reads as exit code 255.
    init(waitStatus: Int32) {
        var value: Int32 = 0
        switch cspawn_decode_wait_status(waitStatus, &value) {
        case 1: self = .exited(value)
        case 2: self = .signaled(value)
        default: self = .exited(255)
        }
    }
}
