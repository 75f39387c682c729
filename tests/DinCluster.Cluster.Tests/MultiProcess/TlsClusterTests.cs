using System.Diagnostics;
using DinCluster.Cluster.Runs;
using DinCluster.Cluster.Tests.MultiProcess.FaultSuite;
using DinCluster.Cluster.Tests.Support;
using Xunit.Abstractions;

namespace DinCluster.Cluster.Tests.MultiProcess;

/// <summary>
/// Remoting over mutual TLS between real processes, with certificates from scripts/make-certs: a node
/// whose certificate is of another CA cannot join (and the coordinator, still short of every role, does not
/// start); a node with a certificate of the cluster's CA joins and the job trains to completion.
/// </summary>
[Trait("Category", "FaultSuite")]
[Trait("Category", "MultiProcess")]
[Collection(TorchCollection.Name)]
public sealed class TlsClusterTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);
    private const string Refusal = "does not chain to the cluster CA";

    [Fact]
    public async Task Node_with_a_certificate_of_another_CA_cannot_join_and_a_node_of_the_cluster_CA_trains_over_TLS()
    {
        var clock = Stopwatch.StartNew();
        try
        {
            var note = await Run();
            new FaultRow("tls-join", "passed", null, null, null, null, null, null, note).Write();
        }
        catch (Exception e)
        {
            new FaultRow("tls-join", "failed", null, null, null, null, null, null, e.Message.Split('\n')[0]).Write();
            throw;
        }
        output.WriteLine($"{clock.Elapsed.TotalSeconds:F0}s");
    }

    private async Task<string> Run()
    {
        using var dir = new TempDir();
        var cluster = MakeCerts(Path.Combine(dir.Path, "cluster"));
        var foreign = MakeCerts(Path.Combine(dir.Path, "foreign"));   // a fresh CA: trusts nothing of the cluster's
        var data = FaultSuiteCluster.Data(output);
        var run = Path.Combine(dir.Path, "run");
        var port = DinProcess.FreePort();
        var seeds = $"127.0.0.1:{port}";

        using var coordinator = DinProcess.Start(
            ["train", "--data", data, "--out", run, "--seeds", seeds, "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
             "--workers", "1", "--ps", "1", "--data-shards", "1", "--epochs", "1", "--embedding-dim", "8", "--batch-size", "256", "--seed", "3"],
            Tls(cluster));
        await coordinator.WaitForOutput("waiting for the other nodes to join", Timeout, "coordinator listening over TLS");
        Assert.Contains($"akka.ssl.tcp://dincluster@127.0.0.1:{port}", coordinator.Output);

        // Every role in one node: had it joined, the coordinator would have started training.
        var joinTimeout = Path.Combine(dir.Path, "join-timeout.conf");
        File.WriteAllText(joinTimeout, "akka.cluster.shutdown-after-unsuccessful-join-seed-nodes = 8s\n");
        using (var rogue = DinProcess.Start(["node", "--role", "worker,ps,data", "--seeds", seeds, "--cluster-config", joinTimeout], Tls(foreign)))
        {
            var code = await rogue.WaitForExit(Timeout, "node with a foreign certificate trying to join");
            output.WriteLine("--- foreign node ---\n" + Brief(rogue.Output));
            Assert.Equal(1, code);
            Assert.Contains("never joined the cluster", rogue.Output);
            Assert.Contains("TLS handshake failed", rogue.Output);
            // Whichever side validates first refuses the other's certificate (TLS 1.3: the client checks the
            // server's before it sends its own), so the refusal is logged by one side or both.
            Assert.True(rogue.Output.Contains(Refusal, StringComparison.Ordinal) || coordinator.Output.Contains(Refusal, StringComparison.Ordinal),
                "neither side logged that the other's certificate does not chain to its CA");
        }
        Assert.Contains("TLS handshake failed", coordinator.Output);
        Assert.False(coordinator.HasExited, "the coordinator ended while only the foreign node had tried to join");
        Assert.DoesNotContain("cluster formed", coordinator.Output);
        Assert.False(File.Exists(Path.Combine(run, "summary.json")), "a run was recorded before a trusted node joined");

        using var good = DinProcess.Start(["node", "--role", "worker,ps,data", "--seeds", seeds], Tls(cluster));
        var coordinatorCode = await coordinator.WaitForExit(Timeout, "training with the trusted node over TLS");
        var goodCode = await good.WaitForExit(Timeout, "trusted node leaving after the job");
        output.WriteLine("--- coordinator ---\n" + Brief(coordinator.Output));
        Assert.Equal(0, coordinatorCode);
        Assert.Equal(0, goodCode);
        var summary = RunSummary.Read(Path.Combine(run, "summary.json"));
        Assert.Equal("completed", summary.Status);
        var epoch = Assert.Single(summary.Epochs);
        Assert.Equal(epoch.SamplesExpected, epoch.SamplesConsumed);
        return $"2 processes over mutual TLS trained 1 epoch ({epoch.SamplesConsumed:N0} samples); a node with another CA's certificate was refused in the TLS handshake and never joined";
    }

    private static string Brief(string log) => string.Join('\n', log.Split('\n').Where(l => !l.StartsWith("   at ", StringComparison.Ordinal) && !l.StartsWith("[INFO]", StringComparison.Ordinal)));

    private static Dictionary<string, string> Tls(string certs) => new()
    {
        ["DINCLUSTER_TLS_CERT"] = Path.Combine(certs, "node.pfx"),
        ["DINCLUSTER_TLS_PASSWORD"] = File.ReadAllText(Path.Combine(certs, "password")).Trim(),
        ["DINCLUSTER_TLS_CA"] = Path.Combine(certs, "ca.pem"),
    };

    private string MakeCerts(string dir)
    {
        var info = new ProcessStartInfo("bash", [Path.Combine(LocalClusterScript.RepoRoot, "scripts", "make-certs"), dir])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var p = Process.Start(info)!;
        var text = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
        p.WaitForExit();
        output.WriteLine(text);
        Assert.True(p.ExitCode == 0, $"make-certs failed: {text}");
        return dir;
    }
}
