using DinCluster.Cluster.Runs;
using DinCluster.Cluster.Tests.Support;
using DinCluster.Data;
using Xunit.Abstractions;

namespace DinCluster.Cluster.Tests.MultiProcess;

/// <summary>
/// A real cluster of processes on 127.0.0.1, started and stopped by scripts/local-cluster: the
/// coordinator (`train --seeds`), and one `node` process per PS shard, data shard and worker.
/// </summary>
[Trait("Category", "MultiProcess")]
[Collection(TorchCollection.Name)]
public sealed class LocalClusterTests(ITestOutputHelper output)
{
    // Generous: the script's build check may rebuild the CLI first (a no-op after scripts/bootstrap).
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(8);

    [Fact]
    public async Task Process_cluster_trains_to_completion_with_exact_ledgers_and_every_node_exits_when_started_by_local_cluster()
    {
        var seed = ulong.TryParse(Environment.GetEnvironmentVariable("DINCLUSTER_TEST_SEED"), out var s) ? s : 11UL;
        output.WriteLine($"data seed {seed} (DINCLUSTER_TEST_SEED overrides)");
        using var dir = new TempDir();
        var data = Path.Combine(dir.Path, "data");
        var run = Path.Combine(dir.Path, "run");
        var dataset = SyntheticGenerator.Generate(data, new SyntheticSettings { Samples = 40_000, Seed = seed });
        output.WriteLine($"synthetic set: {dataset.Train.Samples:N0} train / {dataset.Test.Samples:N0} test samples, Bayes AUC {dataset.BayesTestAuc:F4}");

        // 2 PS shards and 2 workers so pulls/pushes are split across processes; small dims, batch 128
        // and brisk learning rates so two async epochs of 36k samples learn clearly (simulated cluster,
        // same flags: test AUC ~0.75, GAUC ~0.72). The bar below leaves room for async timing.
        var (code, text) = await LocalClusterScript.Run(
            ["start", "--data", data, "--out", run, "--workers", "2", "--ps", "2", "--data-shards", "1",
             "--epochs", "2", "--embedding-dim", "16", "--batch-size", "128", "--sparse-lr", "0.1", "--dense-lr", "0.003", "--seed", "3"],
            "local-cluster start (coordinator + 5 node processes, 2 epochs)", RunTimeout, stopRunOnTimeout: run);
        output.WriteLine(text);
        Assert.True(code == 0, $"local-cluster exited {code}");

        var summary = RunSummary.Read(Path.Combine(run, "summary.json"));
        Assert.True(summary.Status == "completed", $"run {summary.Status}: {summary.Error}");
        Assert.Equal("multiprocess", summary.Mode);
        Assert.Equal(6, summary.Cluster.Nodes);
        Assert.Equal(2, summary.Cluster.Workers);
        Assert.Equal(2, summary.Cluster.PsShards);
        Assert.Equal(2, summary.Epochs.Count);
        foreach (var e in summary.Epochs)
        {
            Assert.True(e.SamplesConsumed == e.SamplesExpected, $"epoch {e.Epoch}: consumed {e.SamplesConsumed} of {e.SamplesExpected}");
            Assert.Equal(dataset.Train.Samples, e.SamplesExpected);
            Assert.True(e.LedgerExact, $"epoch {e.Epoch}: ledger not exact");
            Assert.Equal(0, e.SamplesReplayed);
            Assert.True(double.IsFinite(e.TrainLoss), $"epoch {e.Epoch}: train loss {e.TrainLoss}");
            Assert.NotNull(e.Test);
            Assert.Equal(dataset.Test.Samples, e.Test.Samples);
        }
        var last = summary.Epochs[^1].Test!;
        Assert.True(double.IsFinite(last.Auc) && last.Auc > 0.62, $"test AUC {last.Auc}");
        Assert.True(double.IsFinite(last.Gauc) && last.Gauc > 0.62, $"test GAUC {last.Gauc}");
        Assert.True(File.Exists(Path.Combine(run, "curves.png")), "curves.png missing");
        Assert.True(File.Exists(Path.Combine(run, "metrics.csv")), "metrics.csv missing");
        // One checkpoint per epoch, its PS snapshots written by the PS processes.
        Assert.Equal(2, summary.Checkpoints.Count);
        Assert.All(summary.Checkpoints, c => Assert.True(Directory.Exists(Path.Combine(run, c)), $"checkpoint {c} missing"));

        // Every process ended by itself (none stopped by the script), and none is left running.
        var nodes = Path.Combine(run, "nodes");
        var names = new[] { "coordinator", "ps-0", "ps-1", "data-0", "worker-0", "worker-1" };
        foreach (var name in names)
        {
            Assert.Equal("exited 0", File.ReadAllText(Path.Combine(nodes, name + ".exit")).Trim());
            var pid = int.Parse(File.ReadAllText(Path.Combine(nodes, name + ".pid")).Trim(), System.Globalization.CultureInfo.InvariantCulture);
            Assert.False(IsDinClusterProcess(pid), $"{name} (pid {pid}) is still running");
        }
        // A normal run's shutdown is quiet: no ERROR line in any node's log.
        foreach (var name in names)
        {
            var errors = File.ReadLines(Path.Combine(nodes, name + ".log")).Where(l => l.StartsWith("[ERROR]", StringComparison.Ordinal)).ToList();
            Assert.True(errors.Count == 0, $"{name}.log has ERROR lines:\n{string.Join('\n', errors)}");
        }
    }

    private static bool IsDinClusterProcess(int pid)
    {
        var cmdline = $"/proc/{pid}/cmdline";
        try
        {
            return File.Exists(cmdline) && File.ReadAllText(cmdline).Contains("dincluster", StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;   // exited while we looked
        }
    }
}
