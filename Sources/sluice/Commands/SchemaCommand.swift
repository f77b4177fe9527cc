import ArgumentParser
import Foundation
import SluiceKit

/// `sluice schema pipeline|config`: the JSON Schemas editors check and complete files by.
struct SchemaCommand: ParsableCommand {
    enum Kind: String, ExpressibleByArgument, CaseIterable {
        case pipeline, config
    }

    static let configuration = CommandConfiguration(
        commandName: "schema",
        abstract: "Print the JSON Schema of pipeline files (pipeline) or of sluice.yaml (config), for editors.",
        discussion: """
            Save it and point your editor at it: with the YAML language server (VS Code's YAML extension), put
            '# yaml-language-server: $schema=../.sluice/pipeline.schema.json' at the top of a pipeline file, or map
            it in the settings: "yaml.schemas": {".sluice/pipeline.schema.json": "pipelines/*.yaml"}.
            """)

    @Argument(help: "pipeline or config.")
    var kind: Kind

    func run() throws {
        let data = kind == .pipeline ? DefinitionSchema.pipeline : DefinitionSchema.config
        FileHandle.standardOutput.write(data + Data("\n".utf8))
    }
}
