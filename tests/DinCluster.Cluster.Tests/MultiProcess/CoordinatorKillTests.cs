using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using DinCluster.Cluster.Checkpoints;
using DinCluster.Cluster.Hosting;
using DinCluster.Cluster.Protocol;
using DinCluster.Cluster.Runs;
using DinCluster.Cluster.Tests.MultiProcess.FaultSuite;
using DinCluster.Cluster.Tests.Support;
using DinCluster.Data;
using Xunit.Abstractions;

namespace DinCluster.Cluster.Tests.MultiProcess;

/// <summary>
/// The coordinator process SIGKILLed mid-epoch in a multi-process cluster (scripts/local-cluster --standby:
/// coordinator, standby coordinator, 2 ps, 1 data, 1 worker node process). The failure detector and the
/// split-brain resolver remove it, the singleton starts on the standby, the worker/ps/data nodes stay and
/// announce themselves to it, and it continues from the newest checkpoint: every PS shard, the dense state
/// and the data ledger restored, the batches acked after the checkpoint trained again (counted as replayed).
/// bsp with one worker is deterministic, so the faulted run is held to a fault-free run of the same job
/// (simulated cluster, same seed) within 0.005 test AUC. Writes the fault-suite row "coordinator-kill".
/// </summary>
[Trait("Category", "MultiProcess")]
[Trait("Category", "FaultSuite")]
[Collection(TorchCollection.Name)]
public sealed class CoordinatorKillTests(ITestOutputHelper output)
{
    private const int CheckpointEvery = 40;
    private const int StepsAfterCheckpoint = 5;
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(8);


    [Fact]
    public async Task Coordinator_process_killed_mid_epoch_is_replaced_by_the_standby_which_finishes_the_job_from_the_last_checkpoint()
    {
        const ulong dataSeed = 29;
        const int trainSeed = 3;
        output.WriteLine($"data seed {dataSeed}, train seed {trainSeed}; bsp, 1 worker, 1 data shard, 2 PS processes, a standby coordinator; " +
            $"the coordinator SIGKILLed {StepsAfterCheckpoint} steps after the first mid-epoch checkpoint of epoch 2 (every {CheckpointEvery} steps)");
        using var dir = new TempDir();
        var data = Path.Combine(dir.Path, "data");
        var run = Path.Combine(dir.Path, "run");
        var dataset = SyntheticGenerator.Generate(data, new SyntheticSettings { Users = 500, Items = 1000, Categories = 20, Samples = 12000, HistoryMax = 10, Seed = dataSeed, RowGroupSize = 500 });
        string[] flags = ["--epochs", "3", "--embedding-dim", "8", "--batch-size", "64", "--dense-lr", "0.005", "--seed", $"{trainSeed}", "--threads", "1", "--sync", "bsp", "--log-every", "5"];

        // The fault-free run of the same job: the baseline AUC.
        double baseline;
        using (var cts = new CancellationTokenSource(RunTimeout))
        {
            var baselineRun = await ClusterRunner.RunSimulated(PsKillTests.Cli(data, Path.Combine(dir.Path, "baseline"), epochs: 3), new ClusterShapeOptions(Workers: 1, DataShards: 1, Sync: SyncMode.Bsp), new StringWriter(), ct: cts.Token);
            Assert.Equal("completed", baselineRun.Summary.Status);
            baseline = baselineRun.Summary.Final!.Auc;
        }
        output.WriteLine($"fault-free baseline (simulated cluster): test AUC {baseline:F4}");

        // The first committed mid-epoch checkpoint of epoch 2 (its progress.json says so).
        var checkpoints = Path.Combine(run, "checkpoints");
        Directory.CreateDirectory(checkpoints);
        using var watcher = new FileSystemWatcher(checkpoints) { NotifyFilter = NotifyFilters.DirectoryName };
        var committed = new TaskCompletionSource<(string Name, long Step)>(TaskCreationOptions.RunContinuationsAsynchronously);
        watcher.Renamed += (_, e) =>
        {
            if (e.Name!.EndsWith(".tmp", StringComparison.Ordinal)) return;
            try
            {
                var progress = TrainingProgress.Read(e.FullPath);
                if (progress is { Epoch: 2, EpochComplete: false }) committed.TrySetResult((e.Name, progress.Step));
            }
            catch (Exception x) when (x is IOException or JsonException or InvalidDataException)
            {
                committed.TrySetException(new InvalidDataException($"committed checkpoint {e.Name}: progress.json unreadable: {x.Message}", x));
            }
        };
        watcher.EnableRaisingEvents = true;

        var cluster = LocalClusterScript.Run(
            ["start", "--data", data, "--out", run, "--workers", "1", "--ps", "2", "--data-shards", "1", "--standby", "--checkpoint-every-steps", $"{CheckpointEvery}", .. flags],
            "local-cluster start --standby (coordinator, standby, 4 node processes; the coordinator killed)", RunTimeout, stopRunOnTimeout: run);
        var first = await Task.WhenAny(committed.Task, cluster).WaitAsync(RunTimeout);
        if (first != committed.Task) Assert.Fail($"the run ended before a mid-epoch checkpoint of epoch 2 was committed:\n{(await cluster).Output}");
        var (ckpt, ckptStep) = await committed.Task;
        var firstStep = ckptStep;
        // A few more global steps trained after it (metrics.csv, a row every 5 steps): those are replayed.
        await PsKillTests.StepReached(Path.Combine(run, "metrics.csv"), ckptStep + StepsAfterCheckpoint).WaitAsync(RunTimeout);

        var nodes = Path.Combine(run, "nodes");
        var victim = int.Parse(File.ReadAllText(Path.Combine(nodes, "coordinator.pid")).Trim(), CultureInfo.InvariantCulture);
        Assert.False(File.Exists(Path.Combine(run, "summary.json")), "the job finished before the kill: nothing left for the standby to take over");
        ClusterProcessRun.Signal(victim, ClusterProcessRun.SigKill);
        var killedAt = Stopwatch.StartNew();
        var killedUtc = DateTime.UtcNow;
        // 3 epochs: the kill lands in epoch 2 with a whole epoch still to train, however fast this machine trains.
        output.WriteLine($"{ckpt} (step {ckptStep}) committed; SIGKILL to the coordinator (pid {victim}) at {killedUtc:HH:mm:ss.fff}");
        // The standby resumes from the newest checkpoint the coordinator committed before it died: on a busy
        // machine the coordinator may have committed the next one (40 steps on) before the kill landed.
        var newest = Directory.GetDirectories(checkpoints, "ckpt-*").Select(Path.GetFileName).Where(n => !n!.EndsWith(".tmp", StringComparison.Ordinal)).Max()!;
        if (newest != ckpt)
        {
            output.WriteLine($"the coordinator committed {newest} before the kill landed; the standby must resume from that one");
            (ckpt, ckptStep) = (newest, TrainingProgress.Read(Path.Combine(checkpoints, newest)).Step);
        }

        var (code, text) = await cluster;
        output.WriteLine(string.Join('\n', text.Split('\n').Where(l => !l.StartsWith('[') && !l.StartsWith("   at ", StringComparison.Ordinal) && l.Trim().Length > 0)));

        var summary = RunSummary.Read(Path.Combine(run, "summary.json"));
        Assert.True(summary.Status == "completed", $"run {summary.Status}: {summary.Error}");
        // The coordinator is the one failed process (SIGKILL), so local-cluster reports 3.
        Assert.True(code is 0 or 3, $"local-cluster exited {code}");
        Assert.StartsWith("exited 137", File.ReadAllText(Path.Combine(nodes, "coordinator.exit")).Trim());
        // The standby finished the job; the nodes stayed through the takeover and were dismissed at the end.
        foreach (var name in (string[])["coordinator-standby", "ps-0", "ps-1", "data-0", "worker-0"])
            Assert.Equal("exited 0", File.ReadAllText(Path.Combine(nodes, $"{name}.exit")).Trim());

        var t = summary.Takeover;
        Assert.NotNull(t);
        output.WriteLine($"takeover: {JsonSerializer.Serialize(t)}");
        Assert.Equal(Path.Combine("checkpoints", ckpt), t.Checkpoint);
        Assert.Equal(ckptStep, t.CheckpointStep);
        // Epoch 2, or 3 when the kill landed late (the checkpoint taken then is what the standby must use).
        Assert.InRange(t.CheckpointEpoch, 2, 3);
        // Steps trained after the checkpoint are replayed: at least StepsAfterCheckpoint when the kill landed
        // after the awaited one; after a later checkpoint, however many came before the kill (maybe none).
        var minimum = ckptStep == firstStep ? StepsAfterCheckpoint : 0;
        Assert.True(t.BatchesReplayed >= minimum && (t.BatchesReplayed == 0) == (t.SamplesReplayed == 0),
            $"expected >= {minimum} batches replayed, got {t.BatchesReplayed} ({t.SamplesReplayed} samples)");
        Assert.NotNull(t.UnreachableUtc);
        Assert.NotNull(t.RemovedUtc);
        Assert.True(t.UnreachableUtc > killedUtc && t.RemovedUtc >= t.UnreachableUtc && t.TakenOverUtc >= t.RemovedUtc && t.ResumedUtc >= t.TakenOverUtc,
            $"takeover times out of order: killed {killedUtc:O}, unreachable {t.UnreachableUtc:O}, removed {t.RemovedUtc:O}, taken over {t.TakenOverUtc:O}, resumed {t.ResumedUtc:O}");
        Assert.NotNull(t.RecoverySeconds);
        Assert.Single(summary.Failures, f => f.Kind == "coordinator lost");

        Assert.Equal(3, summary.Epochs.Count);
        foreach (var e in summary.Epochs)
        {
            Assert.True(e.LedgerExact, $"epoch {e.Epoch}: ledger not exact ({e.SamplesConsumed}/{e.SamplesExpected})");
            Assert.Equal(dataset.Train.Samples, e.SamplesConsumed);
        }
        Assert.Equal(t.SamplesReplayed, summary.Epochs.Sum(e => e.SamplesReplayed));
        var auc = summary.Final!.Auc;
        var unreachable = (t.UnreachableUtc!.Value - killedUtc).TotalSeconds;
        var removed = (t.RemovedUtc!.Value - killedUtc).TotalSeconds;
        var resumed = (t.ResumedUtc!.Value - killedUtc).TotalSeconds;
        output.WriteLine($"test AUC {auc:F4} vs fault-free {baseline:F4} (difference {Math.Abs(auc - baseline):F4}); after the kill: unreachable {unreachable:F1}s, removed {removed:F1}s, " +
            $"training again {resumed:F1}s (recovery = removal -> training {t.RecoverySeconds:F1}s); {killedAt.Elapsed.TotalSeconds:F0}s from the kill to the end of the run (loaded machine)");
        Assert.True(Math.Abs(auc - baseline) <= 0.005, $"test AUC {auc:F4} is not within 0.005 of the fault-free run's {baseline:F4}");

        new FaultRow("coordinator-kill", "passed", summary.Epochs.Sum(e => e.SamplesConsumed), summary.Epochs.Sum(e => e.SamplesExpected), t.SamplesReplayed,
            auc, baseline, t.RecoverySeconds,
            $"coordinator SIGKILLed after {ckpt} (epoch {t.CheckpointEpoch}), the newest checkpoint at the kill; unreachable {unreachable:F1}s, removed {removed:F1}s, training again {resumed:F1}s after the kill; " +
            $"the standby took the singleton over and restored every PS shard, the dense state and the data ledger from step {t.CheckpointStep} ({t.BatchesReplayed} batches replayed); " +
            "recovery = removal -> training again; bsp, 1 worker").Write();
    }
}
