// The tests import one module: the server harness the benchmarks share comes with it.
@_exported import RedisServerKit
