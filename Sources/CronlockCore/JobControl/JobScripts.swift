import RedLock

/// The Lua that job control runs on each master, riding with the lock's own commands (see
/// `LockCommandExtension`), plus the scripts of the admin commands. Keys follow `JobKeys`.
enum JobScripts {
    /// Lua that reads an event given as field/value pairs from `ARGV[first]` on: `fields`, the
    /// flat list (for `XADD`), and `event`, the same as a table (for `cjson.encode`).
    private static func readEvent(from first: Int) -> String {
        "local fields, event = {}, {} for i = \(first), #ARGV, 2 do fields[#fields + 1] = ARGV[i] "
            + "fields[#fields + 1] = ARGV[i + 1] event[ARGV[i]] = ARGV[i + 1] end"
    }

    /// The acquire: refuses while the job, its group or every job is paused; otherwise takes the
    /// lock like `SET NX PX GET` and, when it does, records the `started` event, registers the job
    /// and publishes the event. A held lock counts a skip for the asking host instead.
    ///
    /// KEYS: lock, pause-group, pause-job, job, history, registry.
    /// ARGV: value, ttl ms, name, group, host, history cap (entries), channel, run id, pause-all,
    /// then the `started` event as field/value pairs. The pause-all key goes in ARGV, not KEYS, so
    /// that a team's ACL user needs only read access to it (Redis checks declared keys of `EVAL`
    /// for writing; an undeclared key is checked per command; masters are not a Redis Cluster).
    static let acquire = """
        local pauses = {{ARGV[9], 'every job'}, {KEYS[2], 'group ' .. ARGV[4]}, {KEYS[3], 'job ' .. ARGV[3]}}
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
        redis.call('hset', KEYS[4], 'group', ARGV[4], 'running', ARGV[8], 'running_host', ARGV[5],
          'running_since', event['at'] or '')
        redis.call('publish', ARGV[7], cjson.encode(event))
        return false
        """

    /// The end of a run (or of a failed acquisition round): token-checked delete or PEXPIRE of the
    /// lock; the run stops being "running"; a stop request for it is cleared. At the end of a run
    /// that held the lock, the `finished` event is recorded and published on every master that
    /// answers, whether or not its key still held our value (the run happened either way). After a
    /// failed round, the `started` event the round wrote here is taken back (only where the key
    /// still holds our value: the event was written with it, atomically).
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
          redis.call('hdel', KEYS[2], 'running', 'running_host', 'running_since')
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
            'last_duration_ms', event['duration_ms'] or '')
          redis.call('publish', ARGV[6], cjson.encode(event))
        end
        return mine and 1 or 0
        """

    /// A run whose lock turned out to be lost only at its release, after the release had recorded
    /// its `finished` event: adds a `lost` event that overrides it (see `RunHistory.merge`),
    /// corrects the job's last outcome while it is still this run's, and tells watchers.
    /// KEYS: job, history. ARGV: run id, history cap, channel, then the event as field/value pairs.
    static let markLost = """
        \(readEvent(from: 4))
        redis.call('xadd', KEYS[2], 'maxlen', ARGV[2], '*', unpack(fields))
        if redis.call('hget', KEYS[1], 'last_run') == ARGV[1] then
          redis.call('hset', KEYS[1], 'last_outcome', event['outcome'], 'last_exit', event['exit'])
        end
        redis.call('publish', ARGV[3], cjson.encode(event))
        return 1
        """

    /// The state of one or more jobs in one read: per job, its hash, the three pause hashes with
    /// their TTLs, the lock. KEYS: per job, job, pause-all, pause-group, pause-job, lock.
    /// Replies, per job, {job hash, {pause-all, pttl}, {pause-group, pttl}, {pause-job, pttl}, lock pttl}.
    static let jobStates = """
        local reply = {}
        for base = 0, #KEYS - 5, 5 do
          local job = {redis.call('hgetall', KEYS[base + 1])}
          for i = 2, 4 do
            job[#job + 1] = {redis.call('hgetall', KEYS[base + i]), redis.call('pttl', KEYS[base + i])}
          end
          job[#job + 1] = redis.call('pttl', KEYS[base + 5])
          reply[#reply + 1] = job
        end
        return reply
        """

    /// Pause: writes the pause hash (with a TTL when `--for` was given) and publishes the event.
    /// KEYS: pause key. ARGV: ttl ms (0: none), channel, event JSON, then field/value pairs.
    static let pause = """
        redis.call('del', KEYS[1])
        redis.call('hset', KEYS[1], unpack(ARGV, 4))
        if tonumber(ARGV[1]) > 0 then redis.call('pexpire', KEYS[1], ARGV[1]) end
        redis.call('publish', ARGV[2], ARGV[3])
        return 1
        """

    /// Resume: deletes the pause hash; replies 1 when there was one. ARGV: channel, event JSON.
    static let resume = """
        local existed = redis.call('del', KEYS[1])
        if existed == 1 then redis.call('publish', ARGV[1], ARGV[2]) end
        return existed
        """

    /// Stop request: only for the run that is running now on this master. KEYS: job, stop.
    /// ARGV: ttl ms, channel, then field/value pairs without `run`. Replies the run id, or nil when
    /// nothing runs here.
    static let stop = """
        local run = redis.call('hget', KEYS[1], 'running')
        if not run then return false end
        redis.call('del', KEYS[2])
        redis.call('hset', KEYS[2], 'run', run, unpack(ARGV, 3))
        redis.call('pexpire', KEYS[2], ARGV[1])
        local event = {event = 'stop-requested', run = run}
        for i = 3, #ARGV, 2 do event[ARGV[i]] = ARGV[i + 1] end
        redis.call('publish', ARGV[2], cjson.encode(event))
        return run
        """
}
