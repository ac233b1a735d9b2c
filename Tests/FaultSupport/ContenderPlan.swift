import RedLock

/// What one contender does in a loop: pick a key, take the lock, hold it, release it.
public struct ContenderPlan: Sendable {
    /// The keys contended for; each cycle picks one at random.
    public var keys: [String]
    /// The lock's TTL.
    public var ttl: Duration
    /// A critical section lasts between zero and this long…
    public var maximumHold: Duration
    /// …except with this probability, when it runs on past the lock's TTL, so the check relies on
    /// the holder's validity deadline rather than on holders being quick.
    public var overrunChance: Double
    /// The pause after each attempt is between zero and this long.
    public var maximumPause: Duration
    /// Seeds this contender's choices.
    public var seed: UInt64
    /// The longest any contender keeps a key (its TTL or cronlock's): the client's restart guard
    /// (`RestartGuard.atLeast`), since the contenders share keys.
    public var longestKeyLife: Duration
    /// False turns the client's restart guard off (`RestartGuard.disabled`), so that a master
    /// restarted empty votes at once: the lock can then be granted twice.
    public var restartGuard = true
    /// Who this contender is, in its reports and in the fenced store's log (`task 3`, `process 1`).
    public var name: String
    /// The Unix socket of a `FencedStore`: when set, the client takes fencing tokens
    /// (`Fencing.bestEffort`) and each critical section writes to the store with its token as it
    /// begins and as it ends.
    public var fencedStore: String?

    public init(name: String, keys: [String], ttl: Duration, maximumHold: Duration, overrunChance: Double, maximumPause: Duration, seed: UInt64,
                longestKeyLife: Duration) {
        self.name = name
        self.keys = keys
        self.ttl = ttl
        self.maximumHold = maximumHold
        self.overrunChance = overrunChance
        self.maximumPause = maximumPause
        self.seed = seed
        self.longestKeyLife = longestKeyLife
    }

    /// Sets what the plan asks of the contender's client: a short retry delay, the restart guard,
    /// fencing when there is a store.
    public func configure(_ configuration: inout RedLockConfiguration) {
        configuration.tuning.retryDelay = .milliseconds(5)
        configuration.restartGuard = restartGuard ? .atLeast(longestKeyLife) : .disabled
        if fencedStore != nil { configuration.fencing = .bestEffort }
    }

    /// The plan as command-line arguments for `FaultContender loop`.
    public var arguments: [String] {
        ["--name", name, "--keys", keys.joined(separator: ","), "--ttl-us", "\(ttl.nanosecondsRoundedDown / 1000)",
         "--hold-us", "\(maximumHold.nanosecondsRoundedDown / 1000)", "--overrun", "\(overrunChance)",
         "--pause-us", "\(maximumPause.nanosecondsRoundedDown / 1000)", "--seed", "\(seed)",
         "--key-life-us", "\(longestKeyLife.nanosecondsRoundedDown / 1000)", "--restart-guard", restartGuard ? "on" : "off"]
            + (fencedStore.map { ["--store", $0] } ?? [])
    }

    /// Reads the arguments written by `arguments`; `nil` when one is missing or malformed.
    public init?(arguments: ArraySlice<String>) {
        var values: [String: String] = [:]
        var rest = arguments
        while let name = rest.popFirst() {
            guard let value = rest.popFirst() else { return nil }
            values[name] = value
        }
        guard let name = values["--name"], let keys = values["--keys"]?.split(separator: ",").map(String.init), !keys.isEmpty,
              let ttl = values["--ttl-us"].flatMap(Int64.init), let hold = values["--hold-us"].flatMap(Int64.init),
              let overrun = values["--overrun"].flatMap(Double.init), let pause = values["--pause-us"].flatMap(Int64.init),
              let seed = values["--seed"].flatMap(UInt64.init), let life = values["--key-life-us"].flatMap(Int64.init),
              let guardSetting = values["--restart-guard"], ["on", "off"].contains(guardSetting) else { return nil }
        self.init(name: name, keys: keys, ttl: .microseconds(ttl), maximumHold: .microseconds(hold), overrunChance: overrun,
                  maximumPause: .microseconds(pause), seed: seed, longestKeyLife: .microseconds(life))
        restartGuard = guardSetting == "on"
        fencedStore = values["--store"]
    }
}

/// What one contender did, for the run's report.
public struct ContenderTally: Sendable {
    /// Completed acquire → critical section → release cycles.
    public var cycles = 0
    /// Attempts that found the key held elsewhere.
    public var heldElsewhere = 0
    /// Acquire failures by error code (no quorum, …).
    public var acquireFailures: [String: Int] = [:]
    /// Release failures by error code (not held after an overrun, no quorum, …).
    public var releaseFailures: [String: Int] = [:]
    /// Writes to the fenced store that failed (the store did not answer).
    public var storeFailures = 0

    public init() {}

    /// Adds `other` into this tally.
    public mutating func merge(_ other: ContenderTally) {
        cycles += other.cycles
        heldElsewhere += other.heldElsewhere
        acquireFailures.merge(other.acquireFailures, uniquingKeysWith: +)
        releaseFailures.merge(other.releaseFailures, uniquingKeysWith: +)
        storeFailures += other.storeFailures
    }

    /// One line: `tally cycles=… held=… store=… acquire:no quorum=… release:not held=…` (spaces in codes
    /// become underscores).
    public var line: String {
        var fields = ["tally", "cycles=\(cycles)", "held=\(heldElsewhere)", "store=\(storeFailures)"]
        fields += acquireFailures.sorted { $0.key < $1.key }.map { "acquire:\($0.key.replacingSpaces)=\($0.value)" }
        fields += releaseFailures.sorted { $0.key < $1.key }.map { "release:\($0.key.replacingSpaces)=\($0.value)" }
        return fields.joined(separator: " ") + "\n"
    }

    /// Parses a line written by `line`.
    public init?(line: Substring) {
        let fields = line.split(separator: " ")
        guard fields.first == "tally" else { return nil }
        for field in fields.dropFirst() {
            let parts = field.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let value = Int(parts[1]) else { return nil }
            let name = String(parts[0])
            switch name {
            case "cycles": cycles = value
            case "held": heldElsewhere = value
            case "store": storeFailures = value
            case _ where name.hasPrefix("acquire:"): acquireFailures[name.dropFirst(8).restoringSpaces, default: 0] += value
            case _ where name.hasPrefix("release:"): releaseFailures[name.dropFirst(8).restoringSpaces, default: 0] += value
            default: return nil
            }
        }
    }
}

extension StringProtocol {
    fileprivate var replacingSpaces: String { String(map { $0 == " " ? "_" : $0 }) }
    fileprivate var restoringSpaces: String { String(map { $0 == "_" ? " " : $0 }) }
}
