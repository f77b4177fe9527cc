import ArgumentParser
import Foundation

/// `--params-file`, shared by `run`, `step` and `backfill`.
struct ParameterFileOptions: ParsableArguments {
    @Option(
        name: .customLong("params-file"),
        help: ArgumentHelp(
            "A YAML or JSON file of parameter values, under -p and over the workspace's params_file; repeatable, later files win.",
            valueName: "file"))
    var files: [String] = []

    /// The files as given, made absolute against the current directory.
    var paths: [String] {
        files.map { $0.hasPrefix("/") ? $0 : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent($0) }
    }
}
