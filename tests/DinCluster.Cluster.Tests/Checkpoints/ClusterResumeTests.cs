using DinCluster.Cluster.Checkpoints;
using DinCluster.Cluster.Hosting;
using DinCluster.Cluster.Jobs;
using DinCluster.Cluster.Protocol;
using DinCluster.Cluster.Runs;
using DinCluster.Cluster.Tests.MultiProcess.FaultSuite;
using DinCluster.Cluster.Tests.Support;
using DinCluster.Core.Checkpoints;
using Xunit.Abstractions;

namespace DinCluster.Cluster.Tests.Checkpoints;

/// <summary>
/// Mid-epoch checkpoints and `train --resume` on the simulated cluster (real remoting over loopback).
/// The AUC comparison runs bsp with one worker and one data shard: every global step is one batch in
/// ledger order, so the run is deterministic and a resumed run can be held to the straight one.
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class ClusterResumeTests(ITestOutputHelper output)
{
    private const int Seed = 41;
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(4);

    private static async Task<RunSummary> Run(TrainJob job, ClusterShapeOptions shape, StringWriter? log = null)
    {
        using var cts = new CancellationTokenSource(Timeout);
        var result = await ClusterRunner.RunSimulated(job, shape, log ?? new StringWriter(), ct: cts.Token).WaitAsync(Timeout);
        Assert.True(result.Summary.Status == "completed", $"run {job.OutDir} {result.Summary.Status}: {result.Summary.Error}");
        return result.Summary;
    }

    private static TrainJob Job(string data, string run) => SyntheticData.Job(data, run, Seed) with
    {
        Dense = new Core.Optimizers.AdamSettings(LearningRate: 0.005f),
        BatchSize = 64,
    };

    /// <summary>Writes the fault-suite row "resume" (resume.json).</summary>
    [Fact]
    [Trait("Category", "FaultSuite")]
    public Task Bsp_run_stopped_after_epoch_1_and_resumed_on_three_ps_shards_reaches_the_straight_runs_test_auc() =>
        FaultRow.Record("resume", StoppedAndResumed);

    private async Task<FaultRow> StoppedAndResumed()
    {
        output.WriteLine($"seed {Seed}; simulated cluster, bsp, 1 worker, 1 data shard (deterministic), PS 2 -> 3 on resume");
        using var dir = new TempDir();
        var data = Path.Combine(dir.Path, "data");
        SyntheticData.Write(data, Seed, trainSamples: 3000, testSamples: 600, rowGroupSize: 250);
        var shape = new ClusterShapeOptions(Workers: 1, DataShards: 1, Sync: SyncMode.Bsp);

        var straight = await Run(Job(data, Path.Combine(dir.Path, "straight")) with { Epochs = 2 }, shape);
        var stoppedDir = Path.Combine(dir.Path, "stopped");
        var first = await Run(Job(data, stoppedDir) with { Epochs = 1 }, shape);
        var log = new StringWriter();
        var resumed = await Run(Job(data, stoppedDir) with { Epochs = 2, PsShards = 3, Resume = true }, shape, log);
        output.WriteLine(string.Join('\n', log.ToString().Split('\n').Where(l => l.Contains("resuming") || l.StartsWith("epoch", StringComparison.Ordinal))));

        var a = straight.Final!.Auc;
        var b = resumed.Final!.Auc;
        output.WriteLine($"test AUC straight {a:F6}, stopped after epoch 1 and resumed {b:F6}, difference {Math.Abs(a - b):E2}");
        Assert.True(a > 0.55, $"the straight run learned too little to compare with (AUC {a:F4})");
        Assert.True(Math.Abs(a - b) <= 0.002, $"resumed AUC {b:F6} differs from the straight run's {a:F6} by more than 0.002");
        var origin = resumed.ResumedFrom!;
        Assert.Equal(new ResumeRecord("checkpoints/ckpt-" + first.Steps.ToString("D12", System.Globalization.CultureInfo.InvariantCulture), first.Steps, 1, true, 2, 3),
            origin with { Checkpoint = origin.Checkpoint.Replace('\\', '/') });
        Assert.Equal(straight.Steps, resumed.Steps);
        Assert.Equal([1, 2], resumed.Epochs.Select(e => e.Epoch));
        Assert.All(resumed.Epochs, e => Assert.True(e.LedgerExact, $"epoch {e.Epoch}: {e.SamplesConsumed}/{e.SamplesExpected}"));
        return new FaultRow("resume", "passed", resumed.Epochs.Sum(e => e.SamplesConsumed), resumed.Epochs.Sum(e => e.SamplesExpected), 0, b, a, null,
            string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"simulated cluster, bsp, 1 worker: stopped after epoch 1 (2 PS shards), resumed from {origin.Checkpoint.Replace('\\', '/')} on 3; " +
                $"test AUC vs the straight 2-epoch run (AUC column) differs by {Math.Abs(a - b):G3} (criterion 0.002); ledgers exact"));
    }

    [Theory]
    [InlineData(SyncMode.Async)]
    [InlineData(SyncMode.Ssp)]
    [InlineData(SyncMode.Bsp)]
    public async Task Cluster_checkpoints_mid_epoch_and_a_resumed_run_consumes_the_rest_of_the_epoch_exactly_once(SyncMode sync)
    {
        output.WriteLine($"seed {Seed}; simulated cluster, {sync}, 2 workers, 2 data shards, checkpoint every 5 steps, stopped at step 23");
        using var dir = new TempDir();
        var data = Path.Combine(dir.Path, "data");
        SyntheticData.Write(data, Seed, trainSamples: 3000, testSamples: 300, rowGroupSize: 250);
        var shape = new ClusterShapeOptions(Workers: 2, DataShards: 2, Sync: sync, Staleness: sync == SyncMode.Ssp ? 2 : 0);
        var run = Path.Combine(dir.Path, "run");

        var log = new StringWriter();
        var partial = await Run(Job(data, run) with { Epochs = 2, CheckpointEverySteps = 5, MaxSteps = 23 }, shape, log);
        output.WriteLine(string.Join('\n', log.ToString().Split('\n').Where(l => l.Contains("checkpoint"))));
        Assert.Contains("mid-epoch", log.ToString());
        var latest = new CheckpointStore(Path.Combine(run, "checkpoints")).Latest()!.Value;
        var progress = TrainingProgress.Read(latest.Directory);
        Assert.False(progress.EpochComplete);
        Assert.Equal(partial.Steps, progress.Step);
        var consumed = progress.DataShards.Sum(d => d.ConsumedBatchIds.Length);
        output.WriteLine($"latest {Path.GetFileName(latest.Directory)}: step {progress.Step}, {consumed} batches / {progress.EpochSamples} samples of epoch 1 in it");
        if (sync != SyncMode.Bsp) Assert.Equal(progress.EpochSteps, consumed); // async/ssp: one batch per step

        log = new StringWriter();
        var resumed = await Run(Job(data, run) with { Epochs = 2, Resume = true }, shape, log);
        output.WriteLine(string.Join('\n', log.ToString().Split('\n').Where(l => l.Contains("resuming") || l.StartsWith("epoch", StringComparison.Ordinal))));
        Assert.Equal(progress.Step, resumed.ResumedFrom!.Step);
        Assert.False(resumed.ResumedFrom.EpochComplete);
        Assert.Equal([1, 2], resumed.Epochs.Select(e => e.Epoch));
        Assert.All(resumed.Epochs, e =>
        {
            Assert.True(e.LedgerExact, $"epoch {e.Epoch}: {e.SamplesConsumed}/{e.SamplesExpected}");
            Assert.Equal(e.SamplesExpected, e.SamplesConsumed);
        });
        output.WriteLine($"resumed run: test AUC {resumed.Final!.Auc:F4}, {resumed.Steps} steps");
    }
}
