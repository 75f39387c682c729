using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using DinCluster.Cluster.Hosting;
using DinCluster.Cluster.Protocol;
using DinCluster.Cluster.Runs;
using DinCluster.Cluster.Tests.Support;
using DinCluster.Data;
using DinCluster.Cluster.Tests.MultiProcess.FaultSuite;
using Xunit.Abstractions;

namespace DinCluster.Cluster.Tests.MultiProcess;

/// <summary>
/// A PS process, or the data process, SIGKILLed mid-epoch in a multi-process cluster
/// (scripts/local-cluster). For the PS the test starts a replacement `node --role ps` process (a
/// restarted node); for the data shard local-cluster started a spare (`--spare-data 1`) that the
/// coordinator kept idle. Either takes the lost shard, the coordinator rolls every PS shard, the
/// dense state and the data ledger back to the last checkpoint and training completes. bsp with one worker and one data shard is deterministic, so
/// the faulted run is held to a fault-free run of the same job (simulated cluster, same seed) within
/// 0.005 test AUC. Writes the fault-suite rows "ps-kill" and "data-kill".
/// </summary>
[Trait("Category", "MultiProcess")]
[Trait("Category", "FaultSuite")]
[Collection(TorchCollection.Name)]
public sealed class PsKillTests(ITestOutputHelper output)
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(8);


    [Fact]
    public Task Ps_process_killed_mid_epoch_is_replaced_and_every_shard_rolls_back_to_the_last_checkpoint() => KillAndReplace("ps");

    [Fact]
    public Task Data_process_killed_mid_epoch_is_replaced_and_every_shard_rolls_back_to_the_last_checkpoint() => KillAndReplace("data");

    /// <param name="role">"ps": the PS process of shard 0 (and the dense parameters) is killed and a restarted ps takes
    /// its place; "data": the one data process is killed and the spare data node takes its place.</param>
    private async Task KillAndReplace(string role)
    {
        const ulong dataSeed = 29;
        const int trainSeed = 3;
        var killed = role == "ps" ? "the PS process holding shard 0 and the dense parameters" : "the data process";
        output.WriteLine($"data seed {dataSeed}, train seed {trainSeed}; bsp, 1 worker, 1 data shard, 2 PS processes; {killed} SIGKILLed 10 steps after the first mid-epoch checkpoint (step 30)");
        using var dir = new TempDir();
        var data = Path.Combine(dir.Path, "data");
        var run = Path.Combine(dir.Path, "run");
        var dataset = SyntheticGenerator.Generate(data, new SyntheticSettings { Users = 500, Items = 1000, Categories = 20, Samples = 6000, HistoryMax = 10, Seed = dataSeed, RowGroupSize = 500 });
        string[] flags = ["--epochs", "2", "--embedding-dim", "8", "--batch-size", "64", "--dense-lr", "0.005", "--seed", $"{trainSeed}", "--threads", "1", "--sync", "bsp", "--log-every", "5"];

        // The fault-free run of the same job: the baseline AUC.
        var cli = Cli(data, Path.Combine(dir.Path, "baseline"));
        using (var cts = new CancellationTokenSource(RunTimeout))
        {
            var baselineRun = await ClusterRunner.RunSimulated(cli, new ClusterShapeOptions(Workers: 1, DataShards: 1, Sync: SyncMode.Bsp), new StringWriter(), ct: cts.Token);
            Assert.Equal("completed", baselineRun.Summary.Status);
            _baseline = baselineRun.Summary.Final!.Auc;
        }
        output.WriteLine($"fault-free baseline (simulated cluster): test AUC {_baseline:F4}");

        var checkpoints = Path.Combine(run, "checkpoints");
        Directory.CreateDirectory(checkpoints);
        using var watcher = new FileSystemWatcher(checkpoints) { NotifyFilter = NotifyFilters.DirectoryName };
        var committed = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        watcher.Renamed += (_, e) => { if (!e.Name!.EndsWith(".tmp", StringComparison.Ordinal)) committed.TrySetResult(e.Name); };
        watcher.EnableRaisingEvents = true;

        var cluster = LocalClusterScript.Run(
            ["start", "--data", data, "--out", run, "--workers", "1", "--ps", "2", "--data-shards", "1", .. (role == "data" ? (string[])["--spare-data", "1"] : []),
                "--checkpoint-every-steps", "30", .. flags],
            $"local-cluster start (coordinator + 4 node processes, {killed} killed)", RunTimeout, stopRunOnTimeout: run);
        var first = await Task.WhenAny(committed.Task, cluster).WaitAsync(RunTimeout);
        if (first != committed.Task) Assert.Fail($"the run ended before any checkpoint was committed:\n{(await cluster).Output}");
        var ckpt = await committed.Task;
        // 10 more steps trained after it (metrics.csv, a row every 5 steps, flushed per row): those are replayed.
        await StepReached(Path.Combine(run, "metrics.csv"), 40).WaitAsync(RunTimeout);

        var nodes = Path.Combine(run, "nodes");
        // The harder PS loss: the process of shard 0 also holds the dense parameters (it says so in its log).
        // The data shard: whichever of the two data processes the coordinator used (the other is the spare).
        var name = role == "ps"
            ? new[] { "ps-0", "ps-1" }.Single(n => File.ReadAllText(Path.Combine(nodes, n + ".log")).Contains("and the dense parameters"))
            : new[] { "data-0", "data-spare-0" }.Single(n => File.ReadLines(Path.Combine(nodes, n + ".log")).Any(l => l.Contains("data shard 0: ", StringComparison.Ordinal) && l.Contains(" batches per epoch", StringComparison.Ordinal)));
        var victim = int.Parse(File.ReadAllText(Path.Combine(nodes, name + ".pid")).Trim(), CultureInfo.InvariantCulture);
        ClusterProcessRun.Signal(victim, ClusterProcessRun.SigKill);
        var killedAt = Stopwatch.StartNew();
        var killedUtc = DateTime.UtcNow;
        output.WriteLine($"{ckpt} committed; SIGKILL to {name} (pid {victim}), {killed}");

        // PS: a restarted process joins the same cluster (the coordinator is its seed). Data: the spare is there.
        var port = File.ReadLines(Path.Combine(nodes, "cluster.txt")).First(l => l.StartsWith("port=", StringComparison.Ordinal))[5..];
        var dll = File.ReadLines(Path.Combine(nodes, "cluster.txt")).First(l => l.StartsWith("dll=", StringComparison.Ordinal))[4..];
        var (replacement, replacementLog) = role == "ps"
            ? StartNode(dll, ["node", "--role", role, "--port", "0", "--seeds", $"127.0.0.1:{port}", "--threads", "1"], Path.Combine(nodes, $"{role}-restarted.log"))
            : (null, null);
        using var _ = replacement;
        using var __ = replacementLog;

        var (code, text) = await cluster;
        output.WriteLine(string.Join('\n', text.Split('\n').Where(l => !l.StartsWith('[') && l.Trim().Length > 0)));
        // Dismissed with the other nodes at the end of the job; WaitForExitAsync also drains its output.
        if (replacement is not null) await replacement.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        if (role == "data") Assert.Contains("a spare is there", text, StringComparison.Ordinal);

        var summary = RunSummary.Read(Path.Combine(run, "summary.json"));
        Assert.True(summary.Status == "completed", $"run {summary.Status}: {summary.Error}");
        // The killed process is the one failed node (SIGKILL), so local-cluster reports 3.
        Assert.True(code is 0 or 3, $"local-cluster exited {code}");
        Assert.StartsWith("exited 137", File.ReadAllText(Path.Combine(nodes, name + ".exit")).Trim());
        var rollback = Assert.Single(summary.Rollbacks);
        output.WriteLine($"rollback: {JsonSerializer.Serialize(rollback)}");
        Assert.Equal(Path.Combine("checkpoints", ckpt), rollback.Checkpoint);
        Assert.Equal(role == "ps" ? "PS shard 0 lost" : "data shard 0 lost", rollback.Reason);
        Assert.True(rollback.FromStep >= rollback.ToStep, $"rolled back from step {rollback.FromStep} to {rollback.ToStep}");
        Assert.True(rollback.FromStep - rollback.ToStep >= 10 && rollback.SamplesReplayed > 0, $"expected >= 10 steps replayed, got {rollback.FromStep - rollback.ToStep} ({rollback.SamplesReplayed} samples)");
        var lost = Assert.Single(summary.Failures, f => f.Kind == (role == "ps" ? "ps lost" : "data lost"));
        output.WriteLine($"{role} loss noticed {(lost.AtUtc - killedUtc).TotalSeconds:F1}s after the SIGKILL (failure detector + split-brain resolver downing, shipped settings)");
        Assert.Equal(2, summary.Epochs.Count);
        foreach (var e in summary.Epochs)
        {
            Assert.True(e.LedgerExact, $"epoch {e.Epoch}: ledger not exact ({e.SamplesConsumed}/{e.SamplesExpected})");
            Assert.Equal(dataset.Train.Samples, e.SamplesConsumed);
        }
        Assert.Equal(rollback.SamplesReplayed, summary.Epochs.Sum(e => e.SamplesReplayed));
        var auc = summary.Final!.Auc;
        output.WriteLine($"test AUC {auc:F4} vs fault-free {_baseline:F4} (difference {Math.Abs(auc - _baseline):F4}); recovery {rollback.RecoverySeconds:F1}s after detection, {killedAt.Elapsed.TotalSeconds:F0}s from the kill to the end of the run (loaded machine)");
        Assert.True(Math.Abs(auc - _baseline) <= 0.005, $"test AUC {auc:F4} is not within 0.005 of the fault-free run's {_baseline:F4}");

        WriteRow($"{role}-kill", "passed", summary.Epochs.Sum(e => e.SamplesConsumed), summary.Epochs.Sum(e => e.SamplesExpected), rollback.SamplesReplayed,
            auc, _baseline, rollback.RecoverySeconds,
            $"{killed} SIGKILLed 10 steps after {ckpt}; noticed {(lost.AtUtc - killedUtc).TotalSeconds:F1}s after the kill; {(role == "ps" ? "a restarted ps process" : "the spare data node")} took its shard; " +
            $"every shard, the dense state and the data ledger rolled back from step {rollback.FromStep} to {rollback.ToStep}; recovery = detection to training again; bsp, 1 worker");
    }

    private double _baseline;

    /// <summary>Completes when metrics.csv holds a row of step >= <paramref name="step"/> (file-system events, no polling).</summary>
    internal static async Task StepReached(string metrics, long step)
    {
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void Check()
        {
            try
            {
                using var stream = new FileStream(metrics, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                using var reader = new StreamReader(stream);
                var lines = reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1);
                if (lines.Select(l => l.Split(',')).Any(c => c.Length > 1 && long.TryParse(c[1], CultureInfo.InvariantCulture, out var s) && s >= step)) reached.TrySetResult();
            }
            catch (IOException)
            {
                // not there yet, or being written: the next event checks again
            }
        }
        using var watcher = new FileSystemWatcher(Path.GetDirectoryName(metrics)!, Path.GetFileName(metrics)) { NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.FileName };
        watcher.Changed += (_, _) => Check();
        watcher.Created += (_, _) => Check();
        watcher.EnableRaisingEvents = true;
        Check();
        await reached.Task;
    }

    /// <summary>
    /// The job the CLI builds from the flags of this test (and of <see cref="CoordinatorKillTests"/>, with 3 epochs):
    /// dim 8, batch 64, dense lr 0.005, seed 3, 2 PS shards, 1 libtorch thread. The baselines run it in-process.
    /// </summary>
    internal static DinCluster.Cluster.Jobs.TrainJob Cli(string data, string run, int epochs = 2) =>
        new()
        {
            DataDir = data,
            OutDir = run,
            Schema = Core.Features.FeatureSchema.Default(8),
            Model = new Model.Networks.ModelSettings { Seed = 3 },
            Embeddings = new Core.Embeddings.EmbeddingSettings { Seed = 3 },
            Dense = new Core.Optimizers.AdamSettings(LearningRate: 0.005f),
            Epochs = epochs,
            BatchSize = 64,
            Seed = 3,
            PsShards = 2,
            TorchThreads = 1,
        };

    private static (Process, StreamWriter) StartNode(string dll, IEnumerable<string> args, string logPath)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(dll);
        foreach (var a in args) info.ArgumentList.Add(a);
        var process = new Process { StartInfo = info };
        var log = new StreamWriter(logPath) { AutoFlush = true };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return (process, log);
    }

    /// <summary>One fault-suite row (format shared by every fault scenario) into DINCLUSTER_FAULT_REPORT_DIR or TestResults/fault-suite.</summary>
    private static void WriteRow(string scenario, string outcome, long consumed, long expected, long replayed, double auc, double baseline, double? recovery, string note) =>
        new FaultRow(scenario, outcome, consumed, expected, replayed, auc, baseline, recovery, note).Write();
}
