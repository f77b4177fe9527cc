/// Seed 002's example pipeline and script, verbatim.
public enum Seed002 {
    public static let myPipelineYAML = """
        # my_pipeline.yaml
        name: "My Pipeline"
        description: "Description of what this pipeline does"
        steps:
          - name: "setup"
            script: "setup.py"
            description: "Initialize the pipeline environment"
            
          - name: "process_data"
            script: "process.py" 
            description: "Process the input data"
            depends_on: ["setup"]  # This step waits for 'setup' to complete
            
          - name: "generate_report"
            script: "report.py"
            description: "Generate final report"
            depends_on: ["process_data"]
        """

    public static let setupScript = """
        #!/usr/bin/env python3
        \"\"\"
        Setup step for My Pipeline
        \"\"\"
        import os
        import sys

        def main():
            try:
                print("Starting setup...")
                
                # Your setup logic here
                os.makedirs("output", exist_ok=True)
                
                print("Setup completed successfully")
                return 0
                
            except Exception as e:
                print(f"Setup failed: {e}", file=sys.stderr)
                return 1

        if __name__ == "__main__":
            sys.exit(main())
        """
}
