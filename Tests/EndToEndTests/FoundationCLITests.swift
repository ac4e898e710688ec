import Foundation
import Testing
import LEPJSON
import SafeTensors

/// `lep --help | --version | inspect | convert | synth` as a user runs them.
@Suite(.serialized) struct FoundationCLITests {
    @Test func helpVersionAndUsageErrors() throws {
        let help = try LEP.run(["--help"])
        #expect(help.status == 0 && help.stdout.contains("inspect") && help.stdout.contains("convert") && help.stdout.contains("synth"))
        #expect(try LEP.run(["--version"]).stdout.hasPrefix("lep "))
        let sub = try LEP.run(["help", "convert"])
        #expect(sub.status == 0 && sub.stdout.contains("--shard-size"))
        #expect(try LEP.run([]).status == 64)
        #expect(try LEP.run(["frobnicate"]).status == 64)
        let bad = try LEP.run(["convert", "a"])
        #expect(bad.status == 64 && bad.stderr.contains("missing OUT"))
        let badOpt = try LEP.run(["inspect", "x", "--jsn"])
        #expect(badOpt.status == 64 && badOpt.stderr.contains("unknown option '--jsn'"))
        let badDtype = try LEP.run(["convert", "a", "b", "--dtype", "int4"])
        #expect(badDtype.status == 64)
        let missing = try LEP.run(["inspect", "/nonexistent/model"])
        #expect(missing.status == 1 && missing.stderr.contains("/nonexistent/model"))
    }

    @Test func synthInspectConvertRoundTrip() throws {
        let tmp = makeTempDir(); defer { try? FileManager.default.removeItem(atPath: tmp) }
        let s = try LEP.run(["synth", "--preset", "tiny-mistral", "--seed", "3", tmp + "/m"])
        #expect(s.status == 0, "\(s.stderr)")
        let i = try LEP.run(["inspect", tmp + "/m", "--json", "--tensors", "--check-values"])
        #expect(i.status == 0, "\(i.stderr)")
        let report = try JSONParser.parse(i.stdout)
        #expect(report["architecture"]?.string == "MistralForCausalLM")
        #expect(report["tensors"]?.array?.count == 21)
        #expect(report["problems"]?.array?.isEmpty == true)
        let c = try LEP.run(["convert", tmp + "/m", tmp + "/m32", "--dtype", "f32", "--shard-size", "100KB"])
        #expect(c.status == 0, "\(c.stderr)")
        let back = try LEP.run(["convert", tmp + "/m32", tmp + "/m16", "--dtype", "bf16", "--shard-size", "0"])
        #expect(back.status == 0)
        // bf16 → f32 → bf16 is exact, and one file again: same bytes as the original.
        let a = try Data(contentsOf: URL(fileURLWithPath: tmp + "/m/model.safetensors"))
        let b = try Data(contentsOf: URL(fileURLWithPath: tmp + "/m16/model.safetensors"))
        #expect(a == b)
        let cfg = try JSONParser.parse(String(contentsOfFile: tmp + "/m32/config.json", encoding: .utf8))
        #expect(cfg["torch_dtype"]?.string == "float32")
        #expect(entries(tmp + "/m32").contains("generation_config.json"))
        // Existing output refused (exit 1, names the path), --force replaces.
        let again = try LEP.run(["convert", tmp + "/m", tmp + "/m16"])
        #expect(again.status == 1 && again.stderr.contains("--force"))
        #expect(try LEP.run(["convert", tmp + "/m", tmp + "/m16", "--force"]).status == 0)
        // Output inside the input is refused, input untouched.
        let inside = try LEP.run(["convert", tmp + "/m", tmp + "/m/sub"])
        #expect(inside.status == 1 && !entries(tmp + "/m").contains("sub"))
    }

    @Test func inspectFindsProblems() throws {
        let tmp = makeTempDir(); defer { try? FileManager.default.removeItem(atPath: tmp) }
        #expect(try LEP.run(["synth", "--preset", "tiny-llama3", "--dtype", "f32", tmp + "/m"]).status == 0)
        // Poison one value with NaN, and declare a bigger vocabulary than the embeddings have.
        let file = try SafeTensorsFile(path: tmp + "/m/model.safetensors")
        let offset = try file.view("model.norm.weight").fileOffset
        let h = try FileHandle(forUpdating: URL(fileURLWithPath: tmp + "/m/model.safetensors"))
        try h.seek(toOffset: UInt64(offset + 4))
        h.write(Data([0x00, 0x00, 0xC0, 0x7F]))
        try h.close()
        var cfg = try String(contentsOfFile: tmp + "/m/config.json", encoding: .utf8)
        cfg = cfg.replacingOccurrences(of: "\"vocab_size\": 1024", with: "\"vocab_size\": 2048")
        try cfg.write(toFile: tmp + "/m/config.json", atomically: true, encoding: .utf8)
        let r = try LEP.run(["inspect", tmp + "/m", "--check-values"])
        #expect(r.status == 1)
        #expect(r.stdout.contains("model.norm.weight has 1 NaN/Inf"))
        #expect(r.stdout.contains("vocab_size is 2048"))
    }

    /// A writer killed with SIGKILL leaves no output directory; SIGTERM removes even the temporary one,
    /// also when SIGCHLD is ignored (the handler once waited for a forked `rm` that an ignored SIGCHLD
    /// reaps at once, and spun forever).
    @Test func killedWriterLeavesNoOutput() throws {
        let tmp = makeTempDir(); defer { try? FileManager.default.removeItem(atPath: tmp) }
        for (signal, ignoringSIGCHLD) in [(SIGKILL, false), (SIGTERM, false), (SIGTERM, true)] {
            let target = tmp + "/out\(signal)" + (ignoringSIGCHLD ? "-nochld" : "")
            // ~300 MB of f32: long enough to be caught mid-write.
            let p = try LEP.start(
                ["synth", "--preset", "mistral-7b", "--layers", "1", "--hidden", "1024", "--dtype", "f32", target],
                ignoringSIGCHLD: ignoringSIGCHLD)
            var sawTemporary = false
            for _ in 0..<4000 {
                if entries(tmp).contains(where: { $0.hasPrefix("." + (target as NSString).lastPathComponent + ".lep-tmp-") }) { sawTemporary = true; break }
                usleep(1000)
            }
            kill(p.processIdentifier, signal)
            #expect(LEP.wait(p), "lep did not exit within a minute of signal \(signal)")
            #expect(sawTemporary)
            #expect(!FileManager.default.fileExists(atPath: target), "signal \(signal) left \(target)")
            if signal == SIGTERM {
                #expect(!entries(tmp).contains(where: { $0.hasPrefix("." + (target as NSString).lastPathComponent) }), "SIGTERM left \(entries(tmp))")
            }
        }
        // The next run into the SIGKILLed target succeeds and removes the stale temporary directory.
        #expect(try LEP.run(["synth", "--preset", "tiny-llama3", tmp + "/out\(SIGKILL)"]).status == 0)
        #expect(!entries(tmp).contains(where: { $0.hasPrefix(".out\(SIGKILL).lep-tmp-") }))
    }
}
