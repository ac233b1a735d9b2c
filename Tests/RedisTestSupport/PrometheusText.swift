import Foundation

/// Prometheus text format as a real scraper's parser reads it: prometheus_client's
/// `text_string_to_metric_families` (PyPI; `scripts/setup` installs it).
public enum PrometheusText {
    /// One sample: its labels and value.
    public typealias Sample = (labels: [String: String], value: Double)

    /// Why the parser rejected the text (its stderr).
    public struct Rejected: Error, CustomStringConvertible {
        public let description: String
    }

    /// The samples of `text`, by sample name (`cronlock_job_runs_total`). Throws `Rejected` when
    /// prometheus_client cannot parse it (or is not installed).
    public static func samples(_ text: String) async throws -> [String: [Sample]] {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("prometheus-\(UUID().uuidString).txt").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try await samples(ofFile: path)
    }

    /// The samples of the file at `path` (see `samples(_:)`).
    public static func samples(ofFile path: String) async throws -> [String: [Sample]] {
        let script = """
            import json, sys
            from prometheus_client.parser import text_string_to_metric_families
            samples = {}
            for family in text_string_to_metric_families(open(sys.argv[1]).read()):
                for sample in family.samples:
                    samples.setdefault(sample.name, []).append({"labels": sample.labels, "value": sample.value})
            print(json.dumps(samples))
            """
        let python = try SpawnedProcess("/usr/bin/env", ["python3", "-c", script, path], environment: ProcessInfo.processInfo.environment,
                                        output: .collect, error: .collect)
        let code = await python.exitCode(within: .seconds(30))
        guard code == 0,
              let parsed = try JSONSerialization.jsonObject(with: Data(python.standardOutput.utf8)) as? [String: [[String: Any]]] else {
            throw Rejected(description: "prometheus_client could not parse \(path) (scripts/setup installs it): \(python.standardError)")
        }
        return parsed.mapValues { samples in
            samples.map { (($0["labels"] as? [String: String]) ?? [:], ($0["value"] as? Double) ?? .nan) }
        }
    }
}
