import Foundation

/// What `sluice init` writes: a workspace with one small pipeline that shows the format's main ideas in a few
/// commented lines (parameters, a fan-out, a value passed on, declared outputs), its Python scripts (the standard
/// library only), settings, and a `.gitignore` for what runs write.
public enum StarterWorkspace {
    public static let files: [(path: String, text: String, executable: Bool)] = [
        ("sluice.yaml", settings, false),
        (".gitignore", "# Written by runs: run directories, the store, output versions.\nruns/\n.sluice/\n", false),
        ("pipelines/hello.yaml", pipeline, false),
        ("pipelines/hello/write_texts.py", writeTexts, true),
        ("pipelines/hello/count.py", count, true),
        ("pipelines/hello/total.py", total, true),
    ]

    /// Writes the files into `folder` (made if missing) and returns their paths. Refuses, writing nothing, when one
    /// of them is there already (a link included, even to nothing) or a folder it needs is a file: a workspace is
    /// never written over.
    public static func create(in folder: String) throws -> [String] {
        let manager = FileManager.default
        let present = files.map(\.path).filter { (try? manager.attributesOfItem(atPath: folder + "/" + $0)) != nil }
        guard present.isEmpty else {
            throw SluiceError(
                .invalidInput,
                "\(folder) already has \(present.joined(separator: ", ")); sluice init writes nothing over a file: run it in an empty folder, or name a new one (sluice init my-workspace)"
            )
        }
        let folders = Set(files.map { ($0.path as NSString).deletingLastPathComponent }.filter { !$0.isEmpty })
        for needed in [""] + folders.sorted() {
            var isFolder: ObjCBool = false
            let path = needed.isEmpty ? folder : folder + "/" + needed
            if manager.fileExists(atPath: path, isDirectory: &isFolder), !isFolder.boolValue {
                throw SluiceError(.invalidInput, "\(path) is a file, where sluice init would make a folder: move it, or name another folder")
            }
        }
        for file in files {
            let path = folder + "/" + file.path
            do {
                try manager.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                // Never through a link, nor over a file made meanwhile.
                try Data(file.text.utf8).write(to: URL(fileURLWithPath: path), options: .withoutOverwriting)
                if file.executable { try manager.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path) }
            } catch {
                throw SluiceError(.file, "cannot write \(path): \(error.localizedDescription)", file: path)
            }
        }
        return files.map(\.path)
    }

    static let settings = """
        # Workspace settings; every key, its default and where a value came from: sluice config
        # jobs: 4                      # steps run at once (default: the machine's cores)
        # store: .sluice/store.sqlite  # or postgres://USER@HOST/DATABASE, shared by several hosts

        """

    static let pipeline = """
        # A first pipeline. Run it with: sluice run hello
        # Every key is in docs/pipeline-format.md; `sluice schema pipeline` gives your editor a schema of them.
        description: Count the words of a few texts and report the total

        params:                          # given with -p name=value, or in the web UI's form
          greeting: {type: string, default: Hello, description: the report's first word}
          texts: {type: list, default: [rivers, lakes, seas], description: one count step per text}

        steps:
          - name: write_texts            # a script in pipelines/hello/, run by its extension
            script: write_texts.py
            params: [texts]              # what it reads from its environment ($TEXTS): only they rerun it
            outputs: [data/texts]        # declared outputs are versioned: sluice versions hello

          - name: count                  # a fan-out: count[rivers], count[lakes], count[seas], in parallel
            foreach: "{{ params.texts }}"
            depends_on: [write_texts]
            script: count.py             # reads its item from $SLUICE_ITEM
            params: [texts]
            inputs: ["data/texts/{{ item }}.txt"]
            outputs: ["data/counts/{{ item }}.txt"]

          - name: total                  # passes a value on: it writes words=N to the file $SLUICE_OUTPUT names
            depends_on: [count]          # (no outputs declared: it runs every time, and so does report)
            script: total.py
            params: [texts]

          - name: report                 # reads the value
            depends_on: [total]
            params: [greeting]
            env: {WORDS: "{{ steps.total.outputs.words }}"}
            command: echo "$GREETING, $WORDS words" | tee "$SLUICE_OUTPUTS_DIR/report.txt"

        """

    static let writeTexts = """
        #!/usr/bin/env python3
        \"\"\"Writes one small text per item of the texts parameter (in $TEXTS, a JSON list).\"\"\"
        import json, os

        os.makedirs("data/texts", exist_ok=True)
        for name in json.loads(os.environ["TEXTS"]):
            with open(f"data/texts/{name}.txt", "w") as text:
                text.write(f"{name} flow into each other and into the sea\\n" * (len(name) - 3))

        """

    static let count = """
        #!/usr/bin/env python3
        \"\"\"Counts the words of one text: the fan-out's item, in $SLUICE_ITEM.\"\"\"
        import os

        name = os.environ["SLUICE_ITEM"]
        with open(f"data/texts/{name}.txt") as text:
            words = len(text.read().split())
        os.makedirs("data/counts", exist_ok=True)
        with open(f"data/counts/{name}.txt", "w") as out:
            out.write(f"{words}\\n")
        print(f"{name}: {words} words")

        """

    static let total = """
        #!/usr/bin/env python3
        \"\"\"Adds up the counts of this run's texts and passes the sum on to the steps downstream.\"\"\"
        import json, os

        words = sum(int(open(f"data/counts/{name}.txt").read()) for name in json.loads(os.environ["TEXTS"]))
        with open(os.environ["SLUICE_OUTPUT"], "a") as values:
            values.write(f"words={words}\\n")
        print(f"{words} words in all")

        """
}
