using DinCluster.Cluster.Checkpoints;
using DinCluster.Cluster.Jobs;
using DinCluster.Cluster.Local;
using DinCluster.Cluster.Tests.MultiProcess.FaultSuite;
using DinCluster.Core.Checkpoints;
using DinCluster.Core.Features;
using DinCluster.Data;
using Xunit.Abstractions;

namespace DinCluster.Cluster.Tests.Checkpoints;

/// <summary>A tiny synthetic set (project generator) for the resume tests.</summary>
public sealed class ResumeData : IDisposable
{
    public const ulong Seed = 23;
    public string Dir { get; } = Directory.CreateTempSubdirectory("dincluster-resume-data-").FullName;

    public ResumeData() => SyntheticGenerator.Generate(Dir, new SyntheticSettings
    {
        Users = 300, Items = 600, Categories = 20, Samples = 12_000, HistoryMax = 10, Seed = Seed, RowGroupSize = 512, RowsPerFile = 3000,
    });

    public void Dispose() => Directory.Delete(Dir, recursive: true);
}

/// <summary>
/// `train --resume` with the local trainer, the deterministic reference (one libtorch thread,
/// seeded shuffles, ids initialised from the seed): a resumed run must follow the straight run.
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class LocalResumeTests(ResumeData data, ITestOutputHelper output) : IClassFixture<ResumeData>, IDisposable
{
    private const int TrainSeed = 7;
    private readonly string _out = Directory.CreateTempSubdirectory("dincluster-resume-").FullName;

    public void Dispose() => Directory.Delete(_out, recursive: true);

    private TrainJob Job(string name, int epochs, int shards = 1) => new()
    {
        DataDir = data.Dir,
        OutDir = Path.Combine(_out, name),
        Schema = FeatureSchema.Default(dim: 8, maxLen: 10),
        Model = new Model.Networks.ModelSettings { AttentionHidden = [8, 4], MlpHidden = [16, 8], Seed = TrainSeed },
        Embeddings = new Core.Embeddings.EmbeddingSettings { Seed = TrainSeed },
        Dense = new Core.Optimizers.AdamSettings(LearningRate: 0.005f),
        Epochs = epochs,
        BatchSize = 128,
        PsShards = shards,
        Seed = TrainSeed,
        TorchThreads = 1,
        LogEverySteps = 10,
    };

    /// <summary>Writes the fault-suite row "resume-local" (resume-local.json).</summary>
    [Fact]
    [Trait("Category", "FaultSuite")]
    public Task Local_run_stopped_after_epoch_1_and_resumed_reaches_the_straight_runs_test_auc() =>
        FaultRow.Record("resume-local", () => Task.FromResult(StoppedAndResumed()));

    private FaultRow StoppedAndResumed()
    {
        output.WriteLine($"data seed {ResumeData.Seed}, train seed {TrainSeed}; local trainer (deterministic reference)");
        var straight = new LocalTrainer(Job("straight", epochs: 2), new StringWriter()).Run();

        var first = new LocalTrainer(Job("stopped", epochs: 1), new StringWriter()).Run();
        Assert.Equal("completed", first.Status);
        var log = new StringWriter();
        var resumed = new LocalTrainer(Job("stopped", epochs: 2) with { Resume = true }, log).Run();
        output.WriteLine(log.ToString().Split('\n')[1]);

        var a = straight.Final!.Auc;
        var b = resumed.Final!.Auc;
        output.WriteLine($"test AUC straight {a:F6}, stopped after epoch 1 and resumed {b:F6}, difference {Math.Abs(a - b):E2}");
        Assert.True(a > 0.6, $"the straight run learned too little to compare with (AUC {a:F4})");
        Assert.True(Math.Abs(a - b) <= 0.002, $"resumed AUC {b:F6} differs from the straight run's {a:F6} by more than 0.002");
        Assert.NotNull(resumed.ResumedFrom);
        Assert.Equal(first.Steps, resumed.ResumedFrom!.Step);
        Assert.True(resumed.ResumedFrom.EpochComplete);
        Assert.Equal(straight.Steps, resumed.Steps);
        Assert.Equal([1, 2], resumed.Epochs.Select(e => e.Epoch));
        Assert.All(resumed.Epochs, e => Assert.True(e.LedgerExact, $"epoch {e.Epoch}: {e.SamplesConsumed}/{e.SamplesExpected}"));
        return new FaultRow("resume-local", "passed", resumed.Epochs.Sum(e => e.SamplesConsumed), resumed.Epochs.Sum(e => e.SamplesExpected), 0, b, a, null,
            string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"local trainer: stopped after epoch 1, resumed from step {resumed.ResumedFrom.Step}; test AUC vs the straight 2-epoch run (AUC column) differs by {Math.Abs(a - b):G3} (criterion 0.002); ledgers exact"));
    }

    [Fact]
    public void Local_run_resumes_mid_epoch_from_a_step_checkpoint_onto_another_shard_count_and_skips_a_corrupt_one()
    {
        output.WriteLine($"data seed {ResumeData.Seed}, train seed {TrainSeed}; local trainer, 2 -> 3 embedding shards");
        var straight = new LocalTrainer(Job("straight2", epochs: 2, shards: 2), new StringWriter()).Run();

        // Stopped at step 30 of epoch 1 with a checkpoint every 7 steps: 21, 28 and the end (30) are kept.
        var partial = new LocalTrainer(Job("partial", epochs: 2, shards: 2) with { CheckpointEverySteps = 7, MaxSteps = 30 }, new StringWriter()).Run();
        Assert.Equal(30, partial.Steps);
        var root = Path.Combine(_out, "partial", "checkpoints");
        var kept = new CheckpointStore(root).Committed().Select(d => Path.GetFileName(d)!).ToArray();
        output.WriteLine($"checkpoints kept: {string.Join(", ", kept)}");
        Assert.Equal(["ckpt-000000000030", "ckpt-000000000028", "ckpt-000000000021"], kept);

        // The newest one rots: resume must refuse it by name and continue from step 28.
        var dense = Path.Combine(root, "ckpt-000000000030", "dense.bin");
        var bytes = File.ReadAllBytes(dense);
        bytes[^1] ^= 0x5A;
        File.WriteAllBytes(dense, bytes);
        var log = new StringWriter();
        var resumed = new LocalTrainer(Job("partial", epochs: 2, shards: 3) with { Resume = true }, log).Run();
        output.WriteLine(log.ToString());
        Assert.Contains("ckpt-000000000030 refused: dense.bin fails its SHA-256 checksum", log.ToString());
        Assert.Equal(28, resumed.ResumedFrom!.Step);
        Assert.False(resumed.ResumedFrom.EpochComplete);
        Assert.Equal((2, 3), (resumed.ResumedFrom.PsShardsBefore, resumed.ResumedFrom.PsShardsNow));

        var a = straight.Final!.Auc;
        var b = resumed.Final!.Auc;
        output.WriteLine($"test AUC straight (2 shards) {a:F6}, resumed mid-epoch onto 3 shards {b:F6}, difference {Math.Abs(a - b):E2}");
        Assert.True(Math.Abs(a - b) <= 0.002, $"resumed AUC {b:F6} differs from the straight run's {a:F6} by more than 0.002");
        Assert.Equal(straight.Steps, resumed.Steps);
        Assert.All(resumed.Epochs, e => Assert.True(e.LedgerExact, $"epoch {e.Epoch}: {e.SamplesConsumed}/{e.SamplesExpected}"));
        Assert.Equal(straight.Epochs.Select(e => e.SamplesConsumed), resumed.Epochs.Select(e => e.SamplesConsumed));
    }
}
