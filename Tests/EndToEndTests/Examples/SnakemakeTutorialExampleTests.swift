import Foundation
import SluiceTestSupport
import Testing

/// The Snakemake tutorial's variant calling, ported: every per-sample rule one fanned-out step. Its "add sample C"
/// is one parameter, and only C's instances run.
extension ExampleTests {
    @Test func snakemakeTutorialFansOutOverSamplesAndAddingOneRunsOnlyItsInstances() throws {
        let workspace = try TestWorkspace.example("snakemake_tutorial")
        let first = try workspace.runThroughBinary("snakemake_tutorial")
        #expect(first.exitCode == 0, "\(first.stderr)")
        #expect(first.states.keys.filter { $0.hasPrefix("bwa_map[") }.sorted() == ["bwa_map[A]", "bwa_map[B]"])
        let vcf = try workspace.read("data/snakemake_tutorial/calls/all.vcf").split(separator: "\n")
        #expect(vcf.first { $0.hasPrefix("#CHROM") }?.hasSuffix("FORMAT\tA\tB") == true)
        let calls = vcf.filter { !$0.hasPrefix("#") }
        #expect(calls.count >= 12, "most of the 24 planted variants are found")
        #expect(calls.allSatisfy { $0.split(separator: "\t").suffix(2).contains("1/1") }, "each call is some sample's variant")
        #expect(try workspace.read("data/snakemake_tutorial/plots/quals.svg").contains("Quality of \(calls.count) calls"))
        #expect(try workspace.read("runs/\(first.id)/logs/announce.log").hasPrefix("\(calls.count) variants called"), "a value passed on")
        #expect(!workspace.exists("data/snakemake_tutorial/mapped_reads/A.bam"), "a temporary output, gone once sorted")
        #expect(workspace.exists("data/snakemake_tutorial/sorted_reads/A.bam"))

        let added = try workspace.runThroughBinary("snakemake_tutorial", "-p", "samples=A,B,C")
        #expect(added.exitCode == 0, "\(added.stderr)")
        let ran = added.states.filter { $0.value == "succeeded" }.keys.sorted()
        #expect(
            ran == [
                "announce", "bcftools_call", "bwa_map[C]", "make_genome", "make_reads[C]", "plot_quals", "samtools_index[C]", "samtools_sort[C]",
            ],
            "A and B are up to date; the genome is remade (a parameter changed) but comes out the same")
        #expect(added.states["bwa_map[A]"] == "up_to_date" && added.states["samtools_index[B]"] == "up_to_date")
        #expect(try workspace.read("data/snakemake_tutorial/calls/all.vcf").contains("FORMAT\tA\tB\tC"))
    }
}
