/// What a server's grant said besides "granted": the seam for per-server data that rides with a
/// grant (a fencing token, say). Empty today; `AcquireRoundMachine.Answer.granted` carries it so
/// that such data reaches the verdict without another answer case.
struct GrantInfo: Hashable, Sendable {}
