using DinCluster.Cluster.Hosting;
using DinCluster.Cluster.Protocol;
using DinCluster.Cluster.Runs;
using DinCluster.Cluster.Tests.Support;
using Xunit.Abstractions;

namespace DinCluster.Cluster.Tests.Hosting;

[Collection(TorchCollection.Name)]
public sealed class SimulatedClusterTests(ITestOutputHelper output)
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(3);

    [Theory]
    [InlineData(SyncMode.Async, 0)]
    [InlineData(SyncMode.Ssp, 1)]
    [InlineData(SyncMode.Bsp, 0)]
    public async Task Simulated_cluster_consumes_every_sample_once_and_evaluates_when_trained_for_one_epoch(SyncMode sync, int staleness)
    {
        const int seed = 7;
        output.WriteLine($"seed {seed}, sync {sync}");
        using var dir = new TempDir();
        var data = Path.Combine(dir.Path, "data");
        SyntheticData.Write(data, seed, trainSamples: 1200, testSamples: 300, rowGroupSize: 250);
        var job = SyntheticData.Job(data, Path.Combine(dir.Path, "run"), seed);
        var log = new StringWriter();

        using var timeout = new CancellationTokenSource(RunTimeout);
        var result = await ClusterRunner.RunSimulated(job, new ClusterShapeOptions(Workers: 2, DataShards: 2, Sync: sync, Staleness: staleness), log, ct: timeout.Token)
            .WaitAsync(RunTimeout);
        output.WriteLine(log.ToString());

        var s = result.Summary;
        Assert.True(s.Status == "completed", $"run {s.Status}: {s.Error}");
        var epoch = Assert.Single(s.Epochs);
        Assert.Equal(1200, epoch.SamplesExpected);
        Assert.Equal(1200, epoch.SamplesConsumed);
        Assert.True(epoch.LedgerExact);
        Assert.Equal(0, epoch.SamplesReplayed);
        Assert.Equal(300, epoch.Test!.Samples);
        Assert.InRange(epoch.Test.Auc, 0.0, 1.0);
        Assert.True(double.IsFinite(epoch.TrainLoss));
        Assert.Equal(1200, result.Steps.Sum(x => (long)x.Samples));
        Assert.True(File.Exists(Path.Combine(job.OutDir, "summary.json")));
        Assert.True(File.Exists(Path.Combine(job.OutDir, "metrics.csv")));
        Assert.True(File.Exists(Path.Combine(job.OutDir, "curves.png")));
        Assert.Equal("completed", RunSummary.Read(Path.Combine(job.OutDir, "summary.json")).Status);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task Simulated_cluster_computes_every_step_on_the_worker_dense_replica_when_one_worker_writes(int workers)
    {
        const int seed = 5;
        output.WriteLine($"seed {seed}, async, {workers} worker(s)");
        using var dir = new TempDir();
        var data = Path.Combine(dir.Path, "data");
        SyntheticData.Write(data, seed, trainSamples: 1200, testSamples: 300, rowGroupSize: 250);
        var job = SyntheticData.Job(data, Path.Combine(dir.Path, "run"), seed) with { Epochs = 2 };
        var log = new StringWriter();

        using var timeout = new CancellationTokenSource(RunTimeout);
        var result = await ClusterRunner.RunSimulated(job, new ClusterShapeOptions(Workers: workers, DataShards: 1, Sync: SyncMode.Async, Staleness: 0), log, ct: timeout.Token)
            .WaitAsync(RunTimeout);
        output.WriteLine(log.ToString());

        var s = result.Summary;
        Assert.True(s.Status == "completed", $"run {s.Status}: {s.Error}");
        Assert.All(s.Epochs, e => Assert.True(e.LedgerExact));
        foreach (var e in s.Epochs) output.WriteLine($"epoch {e.Epoch}: {e.DenseReplicaSteps}/{e.Steps} steps on the dense replica");
        if (workers == 1)
            // Alone, the worker never waits for dense weights: the actor confirms (checksum) every step's replica.
            Assert.All(s.Epochs, e => Assert.Equal(e.Steps, e.DenseReplicaSteps));
        else
            // Two writers: the first push that finds another's update drops the replica (at most a few steps on it).
            Assert.True(s.Epochs.Sum(e => e.DenseReplicaSteps) < s.Epochs.Sum(e => e.Steps) / 2);
    }
}
