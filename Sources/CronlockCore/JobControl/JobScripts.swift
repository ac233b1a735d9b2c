import RedLock

/// The Lua that job control runs on each master, riding with the lock's own commands (see
/// `LockCommandExtension`), plus the scripts of the admin commands. Keys follow `JobKeys`.
///
/// Events are published with `redis.pcall`: a master whose ACL denies the channel (`NOPERM`) still
/// keeps the state change the script made before it (the lock, the history, the pause); only the
/// live event is missing there.
enum JobScripts {
    /// Lua that reads an event given as field/value pairs from `ARGV[first]` on: `fields`, the
    /// flat list (for `XADD`), and `event`, the same as a table (for `cjson.encode`).
    private static func readEvent(from first: Int) -> String {
        "local fields, event = {}, {} for i = \(first), #ARGV, 2 do fields[#fields + 1] = ARGV[i] "
            + "fields[#fields + 1] = ARGV[i + 1] event[ARGV[i]] = ARGV[i + 1] end"
    }

    /// Lua that defines `run_state(job, lock)`: the job's `running` marker as {run id, state, host},
    /// or false without one. The state is `running` while the lock key holds the value that run
    /// stored (the marker keeps its SHA-1 in `running_lock`, so it lives exactly as long as the
    /// lock and its renewals), else `unknown`: the lock expired without a `finished` event, so its
    /// host is presumed dead.
    private static let runState = """
        local function run_state(job, lock)
          local marker = redis.call('hmget', job, 'running', 'running_lock', 'running_host')
          if not marker[1] then return false end
          local value = redis.call('get', lock)
          local live = value and (not marker[2] or redis.sha1hex(value) == marker[2])
          return {marker[1], live and 'running' or 'unknown', marker[3] or ''}
        end
        """

    /// The acquire: refuses while the job, its group or every job is paused; otherwise takes the
    /// lock like `SET NX PX GET` and, when it does, records the `started` event and registers the
    /// job. A held lock counts a skip for the asking host instead. The event is published only
    /// once a majority granted the lock (`JobRecorder.announceStarted`): a master cannot know
    /// whether the round will win, and watchers cannot unsee a run that never happened.
    ///
    /// KEYS: lock, pause-group, pause-job, job, history, registry.
    /// ARGV: value, ttl ms, name, group, host, history cap (entries), run id, pause-all,
    /// `--expect-every` in ms (empty: none), then the `started` event as field/value pairs. The pause-all key goes in ARGV, not KEYS, so
    /// that a team's ACL user needs only read access to it (Redis checks declared keys of `EVAL`
    /// for writing; an undeclared key is checked per command; masters are not a Redis Cluster).
    static let acquire = """
        local pauses = {{ARGV[8], 'every job'}, {KEYS[2], 'group ' .. ARGV[4]}, {KEYS[3], 'job ' .. ARGV[3]}}
        for _, pause in ipairs(pauses) do
          if redis.call('exists', pause[1]) == 1 then
            local by = redis.call('hmget', pause[1], 'by', 'reason')
            local text = 'paused (' .. pause[2] .. ')'
            if by[1] then text = text .. ' by ' .. by[1] end
            if by[2] and by[2] ~= '' then text = text .. ': ' .. by[2] end
            return {'refused', text}
          end
        end
        local holder = redis.call('get', KEYS[1])
        if holder then
          redis.call('hincrby', KEYS[4], 'skips:' .. ARGV[5], 1)
          return holder
        end
        redis.call('set', KEYS[1], ARGV[1], 'px', ARGV[2])
        \(readEvent(from: 10))
        redis.call('xadd', KEYS[5], 'maxlen', ARGV[6], '*', unpack(fields))
        redis.call('hset', KEYS[6], ARGV[3], ARGV[4])
        if ARGV[9] ~= '' then redis.call('hset', KEYS[4], 'expect_every_ms', ARGV[9]) else redis.call('hdel', KEYS[4], 'expect_every_ms') end
        redis.call('hset', KEYS[4], 'group', ARGV[4], 'running', ARGV[7], 'running_host', ARGV[5],
          'running_since', event['at'] or '', 'running_lock', redis.sha1hex(ARGV[1]))
        return false
        """

    /// The end of a run (or of a failed acquisition round): token-checked delete or PEXPIRE of the
    /// lock; the run stops being "running"; a stop request for it is cleared. At the end of a run
    /// that held the lock, the `finished` event is recorded and published on every master that
    /// answers, whether or not its key still held our value (the run happened either way). After a
    /// failed round, the `started` event the round wrote here is taken back (only where the key
    /// still holds our value: the event was written with it, atomically). The job's hash counts
    /// finished runs per outcome (`runs:ok`, `runs:failed`, …) for the dashboard's metrics.
    ///
    /// KEYS: lock, job, history, stop, registry. ARGV: value, keep ms, acquired (1/0), run id,
    /// history cap, channel, job name, then the `finished` event as field/value pairs. Replies 1 when the key held our
    /// value, else 0.
    static let release = """
        local mine = redis.call('get', KEYS[1]) == ARGV[1]
        if mine then
          if tonumber(ARGV[2]) > 0 then redis.call('pexpire', KEYS[1], ARGV[2]) else redis.call('del', KEYS[1]) end
        end
        if redis.call('hget', KEYS[2], 'running') == ARGV[4] and (mine or ARGV[3] == '1') then
          redis.call('hdel', KEYS[2], 'running', 'running_host', 'running_since', 'running_lock')
        end
        if ARGV[3] == '0' then
          if mine then
            for _, entry in ipairs(redis.call('xrevrange', KEYS[3], '+', '-', 'count', 8)) do
              local fields = entry[2]
              for i = 1, #fields, 2 do
                if fields[i] == 'run' and fields[i + 1] == ARGV[4] then redis.call('xdel', KEYS[3], entry[1]) end
              end
            end
            -- A job that never ran leaves nothing: no empty stream, no registry entry.
            if redis.call('xlen', KEYS[3]) == 0 then redis.call('del', KEYS[3]) end
            if redis.call('exists', KEYS[3]) == 0 and redis.call('hlen', KEYS[2]) <= 1 then
              redis.call('del', KEYS[2])
              redis.call('hdel', KEYS[5], ARGV[7])
            end
          end
          return mine and 1 or 0
        end
        if redis.call('hget', KEYS[4], 'run') == ARGV[4] then redis.call('del', KEYS[4]) end
        \(readEvent(from: 8))
        if #fields > 0 then
          redis.call('xadd', KEYS[3], 'maxlen', ARGV[5], '*', unpack(fields))
          redis.call('hset', KEYS[2], 'last_run', ARGV[4], 'last_outcome', event['outcome'] or '',
            'last_exit', event['exit'] or '', 'last_host', event['host'] or '', 'last_at', event['at'] or '',
            'last_duration_ms', event['duration_ms'] or '', 'last_degraded', event['degraded'] or '',
            'last_started', event['started_at'] or '')
          redis.call('hincrby', KEYS[2], 'runs:' .. (event['outcome'] or ''), 1)
          redis.pcall('publish', ARGV[6], cjson.encode(event))
        end
        return mine and 1 or 0
        """

    /// A run whose lock turned out to be lost only at its release, after the release had recorded
    /// its `finished` event: adds a `lost` event that overrides it (see `RunHistory.merge`),
    /// corrects the job's last outcome while it is still this run's, moves the run's count from its
    /// recorded outcome to `runs:lost` where this master recorded it, and tells watchers.
    /// KEYS: job, history. ARGV: run id, history cap, channel, then the event as field/value pairs.
    static let markLost = """
        \(readEvent(from: 4))
        for _, entry in ipairs(redis.call('xrevrange', KEYS[2], '+', '-', 'count', 8)) do
          local recorded = {}
          for i = 1, #entry[2], 2 do recorded[entry[2][i]] = entry[2][i + 1] end
          if recorded['run'] == ARGV[1] and recorded['event'] == 'finished' then
            if recorded['outcome'] ~= 'lost' then
              redis.call('hincrby', KEYS[1], 'runs:' .. (recorded['outcome'] or ''), -1)
              redis.call('hincrby', KEYS[1], 'runs:lost', 1)
            end
            break
          end
        end
        redis.call('xadd', KEYS[2], 'maxlen', ARGV[2], '*', unpack(fields))
        if redis.call('hget', KEYS[1], 'last_run') == ARGV[1] then
          redis.call('hset', KEYS[1], 'last_outcome', event['outcome'], 'last_exit', event['exit'])
        end
        redis.pcall('publish', ARGV[3], cjson.encode(event))
        return 1
        """

    /// The states of one or more jobs in one read. KEYS, per job: job, pause-all, pause-group,
    /// pause-job, lock. Replies, per job, {job hash, {pause-all, pttl}, {pause-group, pttl},
    /// {pause-job, pttl}, run state} (see `runState`; false without a `running` marker). A pause
    /// hash that several jobs share (every job's, a group's) is read once.
    static let jobStates = """
        \(runState)
        local pauses = {}
        local function pause(key)
          if not pauses[key] then pauses[key] = {redis.call('hgetall', key), redis.call('pttl', key)} end
          return pauses[key]
        end
        local reply = {}
        for base = 0, #KEYS - 5, 5 do
          reply[#reply + 1] = {redis.call('hgetall', KEYS[base + 1]), pause(KEYS[base + 2]), pause(KEYS[base + 3]),
            pause(KEYS[base + 4]), run_state(KEYS[base + 1], KEYS[base + 5])}
        end
        return reply
        """

    /// The run the job's `running` marker names: {run id, `running` or `unknown`, host}, or nil.
    /// KEYS: job, lock.
    static let currentRun = """
        \(runState)
        return run_state(KEYS[1], KEYS[2])
        """

    /// Pause: writes the pause hash (with a TTL when `--for` was given) and publishes the event.
    /// KEYS: pause key. ARGV: ttl ms (0: none), channel, event JSON, then field/value pairs.
    static let pause = """
        redis.call('del', KEYS[1])
        redis.call('hset', KEYS[1], unpack(ARGV, 4))
        if tonumber(ARGV[1]) > 0 then redis.call('pexpire', KEYS[1], ARGV[1]) end
        redis.pcall('publish', ARGV[2], ARGV[3])
        return 1
        """

    /// Resume: deletes the pause hash; replies 1 when there was one. ARGV: channel, event JSON.
    static let resume = """
        local existed = redis.call('del', KEYS[1])
        if existed == 1 then redis.pcall('publish', ARGV[1], ARGV[2]) end
        return existed
        """

    /// Stop request: only for the run that is running now on this master. KEYS: job, stop, lock.
    /// ARGV: ttl ms, channel, then field/value pairs without `run`. Replies the run's state (see
    /// `runState`), or nil when nothing runs here; the request is written only for a run in state
    /// `running`.
    static let stop = """
        \(runState)
        local state = run_state(KEYS[1], KEYS[3])
        if not state or state[2] ~= 'running' then return state end
        local run = state[1]
        redis.call('del', KEYS[2])
        redis.call('hset', KEYS[2], 'run', run, unpack(ARGV, 3))
        redis.call('pexpire', KEYS[2], ARGV[1])
        local event = {event = 'stop-requested', run = run}
        for i = 3, #ARGV, 2 do event[ARGV[i]] = ARGV[i + 1] end
        redis.pcall('publish', ARGV[2], cjson.encode(event))
        return state
        """

    /// Announces a lateness (see `LateEvent`) unless it was announced here before: records it with
    /// its claimant and publishes the event. KEYS: late. ARGV: lateness, claimant, channel, event
    /// JSON. Replies {the lateness's claimant, 1 when claimed now or 0 when before}.
    static let claimLateness = """
        local current = redis.call('hmget', KEYS[1], 'lateness', 'by')
        if current[1] == ARGV[1] and current[2] then return {current[2], 0} end
        redis.call('del', KEYS[1])
        redis.call('hset', KEYS[1], 'lateness', ARGV[1], 'by', ARGV[2])
        redis.pcall('publish', ARGV[3], ARGV[4])
        return {ARGV[2], 1}
        """

    /// Gives back a claim of `claimLateness` that no majority shares. KEYS: late. ARGV: lateness, claimant.
    static let releaseLateness = """
        local current = redis.call('hmget', KEYS[1], 'lateness', 'by')
        if current[1] == ARGV[1] and current[2] == ARGV[2] then return redis.call('del', KEYS[1]) end
        return 0
        """

    /// Forget: deletes a job's state here (its hash, history, stop request, own pause, announced lateness) and its
    /// registry entry while that still names this group, unless a run of it holds the lock.
    /// KEYS: job, history, stop, pause-job, registry, lock, late. ARGV: name, group.
    /// Replies the run's state (see `runState`) when one is running, else how many keys and
    /// registry entries it removed.
    static let forget = """
        \(runState)
        local state = run_state(KEYS[1], KEYS[6])
        if state and state[2] == 'running' then return state end
        local removed = redis.call('del', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[7])
        if redis.call('hget', KEYS[5], ARGV[1]) == ARGV[2] then removed = removed + redis.call('hdel', KEYS[5], ARGV[1]) end
        return removed
        """
}
